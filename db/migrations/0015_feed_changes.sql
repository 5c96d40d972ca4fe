-- Feed documents are cached in each process and dropped when anything they are made from changes:
-- these triggers NOTIFY hangar_feeds, which PostgreSQL delivers only after the writing transaction
-- commits (and once per transaction however many statements fired). lib/feeds/cache.ts listens.
CREATE OR REPLACE FUNCTION hangar_notify_feeds() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  PERFORM pg_notify('hangar_feeds', '');
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER images_notify_feeds AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON images FOR EACH STATEMENT EXECUTE FUNCTION hangar_notify_feeds();
--> statement-breakpoint
CREATE TRIGGER image_versions_notify_feeds AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON image_versions FOR EACH STATEMENT EXECUTE FUNCTION hangar_notify_feeds();
--> statement-breakpoint
CREATE TRIGGER channels_notify_feeds AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON channels FOR EACH STATEMENT EXECUTE FUNCTION hangar_notify_feeds();
--> statement-breakpoint
CREATE TRIGGER blobs_notify_feeds AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON blobs FOR EACH STATEMENT EXECUTE FUNCTION hangar_notify_feeds();
--> statement-breakpoint
CREATE TRIGGER platform_artifacts_notify_feeds AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON platform_artifacts FOR EACH STATEMENT EXECUTE FUNCTION hangar_notify_feeds();
--> statement-breakpoint
CREATE TRIGGER conversions_notify_feeds AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON conversions FOR EACH STATEMENT EXECUTE FUNCTION hangar_notify_feeds();
--> statement-breakpoint
CREATE TRIGGER reviews_notify_feeds AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON reviews FOR EACH STATEMENT EXECUTE FUNCTION hangar_notify_feeds();
--> statement-breakpoint
CREATE TRIGGER projects_notify_feeds AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON projects FOR EACH STATEMENT EXECUTE FUNCTION hangar_notify_feeds();
--> statement-breakpoint
CREATE TRIGGER project_members_notify_feeds AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON project_members FOR EACH STATEMENT EXECUTE FUNCTION hangar_notify_feeds();
--> statement-breakpoint
CREATE TRIGGER users_notify_feeds AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION hangar_notify_feeds();
--> statement-breakpoint
CREATE TRIGGER image_shares_notify_feeds AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON image_shares FOR EACH STATEMENT EXECUTE FUNCTION hangar_notify_feeds();
