CREATE TABLE "clones" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source_version_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"target_image_id" uuid,
	"new_image" jsonb,
	"version" text NOT NULL,
	"mode" text NOT NULL,
	"reset_operations" text[] DEFAULT '{}'::text[] NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"progress" integer DEFAULT 0 NOT NULL,
	"stage" text DEFAULT '' NOT NULL,
	"failure_reason" text,
	"reserved_bytes" bigint DEFAULT 0 NOT NULL,
	"result_version_id" uuid,
	"requested_by_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "clones_mode_check" CHECK (mode in ('linked', 'full')),
	CONSTRAINT "clones_status_check" CHECK (status in ('queued', 'running', 'succeeded', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "image_shares" (
	"image_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"offered_by_id" uuid,
	"decided_by_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp with time zone,
	CONSTRAINT "image_shares_image_id_project_id_pk" PRIMARY KEY("image_id","project_id"),
	CONSTRAINT "image_shares_status_check" CHECK (status in ('pending', 'accepted', 'declined'))
);
--> statement-breakpoint
CREATE TABLE "project_invitations" (
	"project_id" uuid NOT NULL,
	"email" text NOT NULL,
	"role" text DEFAULT 'member' NOT NULL,
	"invited_by_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "project_invitations_project_id_email_pk" PRIMARY KEY("project_id","email"),
	CONSTRAINT "project_invitations_role_check" CHECK (role in ('viewer', 'member', 'owner'))
);
--> statement-breakpoint
ALTER TABLE "image_versions" ADD COLUMN "backing_version_id" uuid;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "released_version_id" uuid;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "released_version" text;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "released_format" text;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "released_virtual_size" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "released_release_status" text;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "released_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "usage_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "clones" ADD CONSTRAINT "clones_source_version_id_image_versions_id_fk" FOREIGN KEY ("source_version_id") REFERENCES "public"."image_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clones" ADD CONSTRAINT "clones_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clones" ADD CONSTRAINT "clones_target_image_id_images_id_fk" FOREIGN KEY ("target_image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clones" ADD CONSTRAINT "clones_result_version_id_image_versions_id_fk" FOREIGN KEY ("result_version_id") REFERENCES "public"."image_versions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "clones" ADD CONSTRAINT "clones_requested_by_id_users_id_fk" FOREIGN KEY ("requested_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_shares" ADD CONSTRAINT "image_shares_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_shares" ADD CONSTRAINT "image_shares_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_shares" ADD CONSTRAINT "image_shares_offered_by_id_users_id_fk" FOREIGN KEY ("offered_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_shares" ADD CONSTRAINT "image_shares_decided_by_id_users_id_fk" FOREIGN KEY ("decided_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_invitations" ADD CONSTRAINT "project_invitations_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_invitations" ADD CONSTRAINT "project_invitations_invited_by_id_users_id_fk" FOREIGN KEY ("invited_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "clones_source_idx" ON "clones" USING btree ("source_version_id");--> statement-breakpoint
CREATE INDEX "clones_project_idx" ON "clones" USING btree ("project_id","created_at");--> statement-breakpoint
CREATE INDEX "image_shares_project_idx" ON "image_shares" USING btree ("project_id","status");--> statement-breakpoint
CREATE INDEX "project_invitations_email_idx" ON "project_invitations" USING btree ("email");--> statement-breakpoint
CREATE INDEX "image_versions_backing_idx" ON "image_versions" USING btree ("backing_version_id");--> statement-breakpoint
CREATE INDEX "images_usage_idx" ON "images" USING btree ("usage_count","id");--> statement-breakpoint
-- Images that existed before: fill in what people outside their project see.
UPDATE "images" i SET
  "released_version_id" = r.id,
  "released_version" = r.version,
  "released_format" = r.format,
  "released_virtual_size" = coalesce(r.virtual_size, 0),
  "released_release_status" = r.release_status
FROM (
  SELECT DISTINCT ON (image_id) image_id, id, version, format, virtual_size, release_status
  FROM "image_versions"
  WHERE data_status = 'ready' AND release_status IN ('approved', 'deprecated', 'disabled', 'revoked')
  ORDER BY image_id, created_at DESC, id DESC
) r
WHERE r.image_id = i.id;--> statement-breakpoint
UPDATE "images" i SET "released_count" = (
  SELECT count(*) FROM "image_versions" v WHERE v.image_id = i.id AND v.release_status IN ('approved', 'deprecated', 'disabled', 'revoked')
);
