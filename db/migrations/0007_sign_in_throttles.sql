CREATE TABLE "sign_in_throttles" (
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"failures" integer NOT NULL,
	"window_started_at" timestamp with time zone NOT NULL,
	"last_failure_at" timestamp with time zone NOT NULL,
	"last_address" text,
	"locked_until" timestamp with time zone,
	CONSTRAINT "sign_in_throttles_scope_key_pk" PRIMARY KEY("scope","key"),
	CONSTRAINT "sign_in_throttles_scope_check" CHECK (scope in ('account', 'address'))
);
--> statement-breakpoint
CREATE INDEX "sign_in_throttles_locked_idx" ON "sign_in_throttles" USING btree ("scope","locked_until");