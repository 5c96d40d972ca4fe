CREATE TABLE "channel_moves" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"channel_id" uuid NOT NULL,
	"from_version_id" uuid,
	"to_version_id" uuid,
	"actor_id" uuid,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "channels" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"image_id" uuid NOT NULL,
	"name" text NOT NULL,
	"version_id" uuid NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reviews" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"version_id" uuid NOT NULL,
	"reviewer_id" uuid,
	"decision" text NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reviews_decision_check" CHECK (decision in ('approved', 'rejected'))
);
--> statement-breakpoint
CREATE TABLE "scheduled_releases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"version_id" uuid NOT NULL,
	"action" text NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"replacement_version_id" uuid,
	"run_at" timestamp with time zone NOT NULL,
	"created_by_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"applied_at" timestamp with time zone,
	"outcome" text
);
--> statement-breakpoint
ALTER TABLE "image_versions" ADD COLUMN "replacement_version_id" uuid;--> statement-breakpoint
ALTER TABLE "image_versions" ADD COLUMN "revoked_ancestor_id" uuid;--> statement-breakpoint
ALTER TABLE "channel_moves" ADD CONSTRAINT "channel_moves_channel_id_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."channels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channel_moves" ADD CONSTRAINT "channel_moves_from_version_id_image_versions_id_fk" FOREIGN KEY ("from_version_id") REFERENCES "public"."image_versions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channel_moves" ADD CONSTRAINT "channel_moves_to_version_id_image_versions_id_fk" FOREIGN KEY ("to_version_id") REFERENCES "public"."image_versions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channel_moves" ADD CONSTRAINT "channel_moves_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channels" ADD CONSTRAINT "channels_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "channels" ADD CONSTRAINT "channels_version_id_image_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."image_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_version_id_image_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."image_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_reviewer_id_users_id_fk" FOREIGN KEY ("reviewer_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_releases" ADD CONSTRAINT "scheduled_releases_version_id_image_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."image_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_releases" ADD CONSTRAINT "scheduled_releases_replacement_version_id_image_versions_id_fk" FOREIGN KEY ("replacement_version_id") REFERENCES "public"."image_versions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scheduled_releases" ADD CONSTRAINT "scheduled_releases_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "channel_moves_channel_idx" ON "channel_moves" USING btree ("channel_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "channels_image_name_key" ON "channels" USING btree ("image_id","name");--> statement-breakpoint
CREATE INDEX "reviews_version_idx" ON "reviews" USING btree ("version_id");--> statement-breakpoint
CREATE INDEX "scheduled_releases_due_idx" ON "scheduled_releases" USING btree ("run_at") WHERE applied_at is null;