CREATE TABLE "image_tags" (
	"tag" text NOT NULL,
	"image_id" uuid NOT NULL,
	CONSTRAINT "image_tags_tag_image_id_pk" PRIMARY KEY("tag","image_id")
);
--> statement-breakpoint
ALTER TABLE "image_tags" ADD CONSTRAINT "image_tags_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;