CREATE TABLE "accounts" (
	"user_id" uuid NOT NULL,
	"type" text NOT NULL,
	"provider" text NOT NULL,
	"provider_account_id" text NOT NULL,
	"refresh_token" text,
	"access_token" text,
	"expires_at" integer,
	"token_type" text,
	"scope" text,
	"id_token" text,
	"session_state" text,
	CONSTRAINT "accounts_provider_provider_account_id_pk" PRIMARY KEY("provider","provider_account_id")
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_id" uuid,
	"action" text NOT NULL,
	"object_type" text NOT NULL,
	"object_id" text NOT NULL,
	"before" jsonb,
	"after" jsonb
);
--> statement-breakpoint
CREATE TABLE "blobs" (
	"sha256" text PRIMARY KEY NOT NULL,
	"sha512" text NOT NULL,
	"size" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "image_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"image_id" uuid NOT NULL,
	"version" text NOT NULL,
	"format" text,
	"virtual_size" bigint,
	"file_size" bigint,
	"sha256" text,
	"sha512" text,
	"original_filename" text,
	"data_status" text DEFAULT 'queued' NOT NULL,
	"failure_reason" text,
	"release_status" text DEFAULT 'draft' NOT NULL,
	"source" text NOT NULL,
	"source_url" text,
	"parent_version_id" uuid,
	"inspection" jsonb,
	"notes" text DEFAULT '' NOT NULL,
	"created_by_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "image_versions_data_status_check" CHECK (data_status in ('queued', 'uploading', 'importing', 'ready', 'failed')),
	CONSTRAINT "image_versions_release_status_check" CHECK (release_status in ('draft', 'pending_review', 'approved', 'rejected', 'deprecated', 'disabled', 'revoked')),
	CONSTRAINT "image_versions_source_check" CHECK (source in ('upload', 'url', 'build', 'clone')),
	CONSTRAINT "image_versions_ready_has_blob" CHECK (data_status <> 'ready' or (sha256 is not null and format is not null))
);
--> statement-breakpoint
CREATE TABLE "images" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"os" text NOT NULL,
	"os_version" text DEFAULT '' NOT NULL,
	"arch" text DEFAULT 'x86_64' NOT NULL,
	"visibility" text DEFAULT 'private' NOT NULL,
	"project_id" uuid NOT NULL,
	"created_by_id" uuid,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"properties" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"latest_version_id" uuid,
	"latest_version" text,
	"latest_format" text,
	"latest_virtual_size" bigint DEFAULT 0 NOT NULL,
	"latest_release_status" text,
	"version_count" integer DEFAULT 0 NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(slug, '') || ' ' || coalesce(os, '') || ' ' || coalesce(os_version, '')), 'A') || setweight(hangar_tags_tsvector(tags), 'B') || setweight(to_tsvector('simple', coalesce(description, '')), 'C')) STORED,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "images_visibility_check" CHECK (visibility in ('private', 'shared', 'public')),
	CONSTRAINT "images_arch_check" CHECK (arch in ('x86_64', 'aarch64', 'ppc64le', 's390x', 'riscv64'))
);
--> statement-breakpoint
CREATE TABLE "project_members" (
	"project_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"role" text DEFAULT 'member' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "project_members_project_id_user_id_pk" PRIMARY KEY("project_id","user_id"),
	CONSTRAINT "project_members_role_check" CHECK (role in ('viewer', 'member', 'owner'))
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"quota_bytes" bigint DEFAULT 107374182400 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tags" (
	"name" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text,
	"email" text NOT NULL,
	"email_verified" timestamp with time zone,
	"image" text,
	"role" text DEFAULT 'member' NOT NULL,
	"password_hash" text,
	"disabled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_role_check" CHECK (role in ('admin', 'member'))
);
--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_versions" ADD CONSTRAINT "image_versions_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_versions" ADD CONSTRAINT "image_versions_sha256_blobs_sha256_fk" FOREIGN KEY ("sha256") REFERENCES "public"."blobs"("sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_versions" ADD CONSTRAINT "image_versions_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_members" ADD CONSTRAINT "project_members_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_members" ADD CONSTRAINT "project_members_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "accounts_user_idx" ON "accounts" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "audit_events_at_idx" ON "audit_events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_events_object_idx" ON "audit_events" USING btree ("object_type","object_id");--> statement-breakpoint
CREATE UNIQUE INDEX "image_versions_image_version_key" ON "image_versions" USING btree ("image_id","version");--> statement-breakpoint
CREATE INDEX "image_versions_image_idx" ON "image_versions" USING btree ("image_id","created_at");--> statement-breakpoint
CREATE INDEX "image_versions_created_idx" ON "image_versions" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "image_versions_size_idx" ON "image_versions" USING btree (coalesce("virtual_size", 0),"id");--> statement-breakpoint
CREATE INDEX "image_versions_parent_idx" ON "image_versions" USING btree ("parent_version_id");--> statement-breakpoint
CREATE INDEX "image_versions_sha256_idx" ON "image_versions" USING btree ("sha256");--> statement-breakpoint
CREATE UNIQUE INDEX "images_slug_key" ON "images" USING btree ("slug");--> statement-breakpoint
CREATE INDEX "images_search_idx" ON "images" USING gin ("search");--> statement-breakpoint
CREATE INDEX "images_tags_idx" ON "images" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "images_name_trgm_idx" ON "images" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "images_name_idx" ON "images" USING btree ("name","id");--> statement-breakpoint
CREATE INDEX "images_updated_idx" ON "images" USING btree ("updated_at","id");--> statement-breakpoint
CREATE INDEX "images_size_idx" ON "images" USING btree ("latest_virtual_size","id");--> statement-breakpoint
CREATE INDEX "images_project_idx" ON "images" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "images_os_idx" ON "images" USING btree ("os","os_version");--> statement-breakpoint
CREATE INDEX "images_arch_idx" ON "images" USING btree ("arch");--> statement-breakpoint
CREATE INDEX "images_release_idx" ON "images" USING btree ("latest_release_status");--> statement-breakpoint
CREATE INDEX "project_members_user_idx" ON "project_members" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "projects_slug_key" ON "projects" USING btree ("slug");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_key" ON "users" USING btree (lower("email"));