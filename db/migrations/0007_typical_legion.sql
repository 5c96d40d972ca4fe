ALTER TABLE "builds" ADD COLUMN "acceleration" text;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "acceleration_reason" text;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "time_limit_seconds" integer;