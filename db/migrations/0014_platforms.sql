CREATE TABLE "feeds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text DEFAULT 'token' NOT NULL,
	"name" text NOT NULL,
	"prefix" text,
	"secret_hash" text,
	"project_id" uuid,
	"created_by_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"last_used_address" text,
	"use_count" bigint DEFAULT 0 NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_by_id" uuid,
	CONSTRAINT "feeds_kind_check" CHECK (kind in ('token', 'public')),
	CONSTRAINT "feeds_secret_check" CHECK ((kind = 'token') = (secret_hash is not null))
);
--> statement-breakpoint
CREATE TABLE "platform_artifacts" (
	"version_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"content" "bytea" NOT NULL,
	"sha256" text NOT NULL,
	"size" bigint NOT NULL,
	"combined_sha256" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "platform_artifacts_version_id_kind_pk" PRIMARY KEY("version_id","kind"),
	CONSTRAINT "platform_artifacts_kind_check" CHECK (kind in ('lxd', 'incus'))
);
--> statement-breakpoint
ALTER TABLE "blobs" ALTER COLUMN "sha512" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "blobs" ADD COLUMN "md5" text;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "published" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "published_channels" text[] DEFAULT '{latest}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "vm_template" jsonb DEFAULT '{"vcpu":1,"memoryMiB":1024,"diskBus":"virtio","firmware":"bios","context":{"network":true,"sshKey":true,"rootPassword":"locked"}}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "feeds" ADD CONSTRAINT "feeds_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "feeds" ADD CONSTRAINT "feeds_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "feeds" ADD CONSTRAINT "feeds_revoked_by_id_users_id_fk" FOREIGN KEY ("revoked_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "platform_artifacts" ADD CONSTRAINT "platform_artifacts_version_id_image_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."image_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "feeds_secret_hash_key" ON "feeds" USING btree ("secret_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "feeds_one_public_key" ON "feeds" USING btree ("kind") WHERE kind = 'public' and revoked_at is null;--> statement-breakpoint
CREATE INDEX "feeds_project_idx" ON "feeds" USING btree ("project_id","created_at");