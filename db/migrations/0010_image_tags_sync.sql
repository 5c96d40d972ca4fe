-- image_tags mirrors images.tags (the array stays the source of truth, read and written as
-- before); this trigger keeps the copy whatever path changes the array, and deleting an image
-- drops its rows by the foreign key's cascade.
CREATE OR REPLACE FUNCTION hangar_sync_image_tags() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NEW.tags IS NOT DISTINCT FROM OLD.tags THEN
      RETURN NULL;
    END IF;
    DELETE FROM image_tags WHERE image_id = NEW.id AND NOT (tag = ANY (NEW.tags));
  END IF;
  INSERT INTO image_tags (tag, image_id) SELECT DISTINCT unnest(NEW.tags), NEW.id ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER images_sync_image_tags AFTER INSERT OR UPDATE OF tags ON images FOR EACH ROW EXECUTE FUNCTION hangar_sync_image_tags();
--> statement-breakpoint
INSERT INTO image_tags (tag, image_id) SELECT DISTINCT unnest(tags), id FROM images ON CONFLICT DO NOTHING;
