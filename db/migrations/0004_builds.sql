CREATE TABLE "build_logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"build_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"stream" text DEFAULT 'out' NOT NULL,
	"line" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "builds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"number" bigserial NOT NULL,
	"recipe_id" uuid NOT NULL,
	"revision_id" uuid NOT NULL,
	"base_version_id" uuid NOT NULL,
	"fingerprint" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"steps" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"output_version_id" uuid,
	"failure_reason" text,
	"requested_by_id" uuid,
	"attempt" integer DEFAULT 0 NOT NULL,
	"worker_host" text,
	"worker_pid" integer,
	"process_group" integer,
	"heartbeat_at" timestamp with time zone,
	"cancel_requested_at" timestamp with time zone,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "builds_status_check" CHECK (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "recipe_files" (
	"project_id" uuid NOT NULL,
	"sha256" text NOT NULL,
	"filename" text DEFAULT '' NOT NULL,
	"size" bigint NOT NULL,
	"uploaded_by_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recipe_files_project_id_sha256_pk" PRIMARY KEY("project_id","sha256")
);
--> statement-breakpoint
CREATE TABLE "recipe_revisions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"recipe_id" uuid NOT NULL,
	"revision" integer NOT NULL,
	"document" jsonb NOT NULL,
	"base_image_id" uuid NOT NULL,
	"base_version_id" uuid,
	"base_channel" text,
	"output_image_id" uuid NOT NULL,
	"output_format" text NOT NULL,
	"grow_to_bytes" bigint,
	"created_by_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recipe_revisions_base_check" CHECK ((base_version_id is null) <> (base_channel is null))
);
--> statement-breakpoint
CREATE TABLE "recipes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"name" text NOT NULL,
	"latest_revision" integer DEFAULT 0 NOT NULL,
	"created_by_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "image_versions" ADD COLUMN "recipe_revision_id" uuid;--> statement-breakpoint
ALTER TABLE "image_versions" ADD COLUMN "build_id" uuid;--> statement-breakpoint
ALTER TABLE "build_logs" ADD CONSTRAINT "build_logs_build_id_builds_id_fk" FOREIGN KEY ("build_id") REFERENCES "public"."builds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "builds" ADD CONSTRAINT "builds_recipe_id_recipes_id_fk" FOREIGN KEY ("recipe_id") REFERENCES "public"."recipes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "builds" ADD CONSTRAINT "builds_revision_id_recipe_revisions_id_fk" FOREIGN KEY ("revision_id") REFERENCES "public"."recipe_revisions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "builds" ADD CONSTRAINT "builds_base_version_id_image_versions_id_fk" FOREIGN KEY ("base_version_id") REFERENCES "public"."image_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "builds" ADD CONSTRAINT "builds_output_version_id_image_versions_id_fk" FOREIGN KEY ("output_version_id") REFERENCES "public"."image_versions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "builds" ADD CONSTRAINT "builds_requested_by_id_users_id_fk" FOREIGN KEY ("requested_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recipe_files" ADD CONSTRAINT "recipe_files_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recipe_files" ADD CONSTRAINT "recipe_files_sha256_blobs_sha256_fk" FOREIGN KEY ("sha256") REFERENCES "public"."blobs"("sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recipe_files" ADD CONSTRAINT "recipe_files_uploaded_by_id_users_id_fk" FOREIGN KEY ("uploaded_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recipe_revisions" ADD CONSTRAINT "recipe_revisions_recipe_id_recipes_id_fk" FOREIGN KEY ("recipe_id") REFERENCES "public"."recipes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recipe_revisions" ADD CONSTRAINT "recipe_revisions_base_image_id_images_id_fk" FOREIGN KEY ("base_image_id") REFERENCES "public"."images"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recipe_revisions" ADD CONSTRAINT "recipe_revisions_base_version_id_image_versions_id_fk" FOREIGN KEY ("base_version_id") REFERENCES "public"."image_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recipe_revisions" ADD CONSTRAINT "recipe_revisions_output_image_id_images_id_fk" FOREIGN KEY ("output_image_id") REFERENCES "public"."images"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recipe_revisions" ADD CONSTRAINT "recipe_revisions_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recipes" ADD CONSTRAINT "recipes_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recipes" ADD CONSTRAINT "recipes_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "build_logs_build_idx" ON "build_logs" USING btree ("build_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "builds_number_key" ON "builds" USING btree ("number");--> statement-breakpoint
CREATE INDEX "builds_recipe_idx" ON "builds" USING btree ("recipe_id","queued_at");--> statement-breakpoint
CREATE INDEX "builds_queued_idx" ON "builds" USING btree ("queued_at","id");--> statement-breakpoint
CREATE INDEX "builds_fingerprint_idx" ON "builds" USING btree ("fingerprint") WHERE status = 'succeeded';--> statement-breakpoint
CREATE INDEX "builds_running_idx" ON "builds" USING btree ("heartbeat_at") WHERE status = 'running';--> statement-breakpoint
CREATE UNIQUE INDEX "builds_output_key" ON "builds" USING btree ("output_version_id");--> statement-breakpoint
CREATE UNIQUE INDEX "recipe_revisions_recipe_revision_key" ON "recipe_revisions" USING btree ("recipe_id","revision");--> statement-breakpoint
CREATE INDEX "recipes_project_idx" ON "recipes" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "recipes_updated_idx" ON "recipes" USING btree ("updated_at");--> statement-breakpoint
CREATE UNIQUE INDEX "image_versions_build_key" ON "image_versions" USING btree ("build_id");