ALTER TABLE "images" drop column "search";--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "search" "tsvector" GENERATED ALWAYS AS (hangar_search_document(name, slug, os, os_version, tags, description)) STORED;--> statement-breakpoint
-- Added by hand: dropping the column dropped its index, and drizzle-kit does not re-create it.
CREATE INDEX "images_search_idx" ON "images" USING gin ("search");
