CREATE TABLE "boot_test_logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"boot_test_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"line" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "boot_tests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"version_id" uuid NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"failure_reason" text,
	"worker_host" text,
	"worker_pid" integer,
	"process_group" integer,
	"heartbeat_at" timestamp with time zone,
	"cancel_requested_at" timestamp with time zone,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"result" text,
	"success_pattern" text NOT NULL,
	"timeout_seconds" integer NOT NULL,
	"acceleration" text,
	"duration_ms" integer,
	"console_bytes" bigint DEFAULT 0 NOT NULL,
	"trigger" text DEFAULT 'manual' NOT NULL,
	"requested_by_id" uuid,
	CONSTRAINT "boot_tests_status_check" CHECK (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
	CONSTRAINT "boot_tests_result_check" CHECK (result is null or result in ('passed', 'failed', 'timed_out', 'not_bootable'))
);
--> statement-breakpoint
CREATE TABLE "content_packages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"scan_sha256" text NOT NULL,
	"name" text NOT NULL,
	"version" text NOT NULL,
	"epoch" integer DEFAULT 0 NOT NULL,
	"upstream_version" text NOT NULL,
	"release" text DEFAULT '' NOT NULL,
	"arch" text DEFAULT '' NOT NULL,
	"scheme" text NOT NULL,
	"sort_key" "bytea" NOT NULL,
	CONSTRAINT "content_packages_scheme_check" CHECK (scheme in ('deb', 'rpm', 'apk', 'other'))
);
--> statement-breakpoint
CREATE TABLE "content_scans" (
	"sha256" text PRIMARY KEY NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"failure_reason" text,
	"worker_host" text,
	"worker_pid" integer,
	"process_group" integer,
	"heartbeat_at" timestamp with time zone,
	"cancel_requested_at" timestamp with time zone,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"os_found" boolean,
	"no_os_reason" text,
	"os_type" text,
	"distro" text,
	"product_name" text,
	"os_version" text,
	"arch" text,
	"hostname" text,
	"package_format" text,
	"package_manager" text,
	"init_system" text,
	"kernels" text[] DEFAULT '{}'::text[] NOT NULL,
	"filesystems" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"login_users" text[] DEFAULT '{}'::text[] NOT NULL,
	"enabled_services" text[] DEFAULT '{}'::text[] NOT NULL,
	"package_count" integer DEFAULT 0 NOT NULL,
	"duration_ms" integer,
	CONSTRAINT "content_scans_status_check" CHECK (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "version_diffs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"from_version_id" uuid NOT NULL,
	"to_version_id" uuid NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"failure_reason" text,
	"worker_host" text,
	"worker_pid" integer,
	"process_group" integer,
	"heartbeat_at" timestamp with time zone,
	"cancel_requested_at" timestamp with time zone,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"files" jsonb,
	"requested_by_id" uuid,
	CONSTRAINT "version_diffs_status_check" CHECK (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled'))
);
--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "boot_test_required" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "boot_success_marker" text;--> statement-breakpoint
ALTER TABLE "boot_test_logs" ADD CONSTRAINT "boot_test_logs_boot_test_id_boot_tests_id_fk" FOREIGN KEY ("boot_test_id") REFERENCES "public"."boot_tests"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "boot_tests" ADD CONSTRAINT "boot_tests_version_id_image_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."image_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "boot_tests" ADD CONSTRAINT "boot_tests_requested_by_id_users_id_fk" FOREIGN KEY ("requested_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "content_packages" ADD CONSTRAINT "content_packages_scan_sha256_content_scans_sha256_fk" FOREIGN KEY ("scan_sha256") REFERENCES "public"."content_scans"("sha256") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "content_scans" ADD CONSTRAINT "content_scans_sha256_blobs_sha256_fk" FOREIGN KEY ("sha256") REFERENCES "public"."blobs"("sha256") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "version_diffs" ADD CONSTRAINT "version_diffs_from_version_id_image_versions_id_fk" FOREIGN KEY ("from_version_id") REFERENCES "public"."image_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "version_diffs" ADD CONSTRAINT "version_diffs_to_version_id_image_versions_id_fk" FOREIGN KEY ("to_version_id") REFERENCES "public"."image_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "version_diffs" ADD CONSTRAINT "version_diffs_requested_by_id_users_id_fk" FOREIGN KEY ("requested_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "boot_test_logs_test_idx" ON "boot_test_logs" USING btree ("boot_test_id","id");--> statement-breakpoint
CREATE INDEX "boot_tests_version_idx" ON "boot_tests" USING btree ("version_id","queued_at");--> statement-breakpoint
CREATE INDEX "boot_tests_running_idx" ON "boot_tests" USING btree ("heartbeat_at") WHERE status = 'running';--> statement-breakpoint
CREATE INDEX "content_packages_scan_idx" ON "content_packages" USING btree ("scan_sha256","name");--> statement-breakpoint
CREATE INDEX "content_packages_search_idx" ON "content_packages" USING btree ("name","scheme","sort_key","scan_sha256");--> statement-breakpoint
CREATE INDEX "content_scans_status_idx" ON "content_scans" USING btree ("status");--> statement-breakpoint
CREATE INDEX "content_scans_distro_idx" ON "content_scans" USING btree ("distro","arch");--> statement-breakpoint
CREATE INDEX "version_diffs_pair_idx" ON "version_diffs" USING btree ("from_version_id","to_version_id","queued_at");