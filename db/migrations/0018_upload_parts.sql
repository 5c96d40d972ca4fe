ALTER TABLE "blobs" ADD COLUMN "object_key" text;--> statement-breakpoint
ALTER TABLE "uploads" ADD COLUMN "s3_upload_id" text;--> statement-breakpoint
ALTER TABLE "uploads" ADD COLUMN "durable_bytes" bigint DEFAULT 0 NOT NULL;