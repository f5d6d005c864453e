-- fitstore schema, migration 9: a checkpoint's features can come from several encoders.
--
-- `train --encoder a,b` concatenates the vectors of several encoders, so one encoder_id per
-- checkpoint no longer says where its features came from. checkpoint_encoder lists them in
-- column order (position 0 first); checkpoint.encoder_id stays, holding position 0, for the
-- views and queries written against it. gc keeps every encoder a checkpoint lists here.

CREATE TABLE checkpoint_encoder (
    checkpoint_id INTEGER NOT NULL REFERENCES checkpoint(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL CHECK (position >= 0),
    encoder_id    INTEGER NOT NULL REFERENCES encoder(id),
    PRIMARY KEY (checkpoint_id, position),
    UNIQUE (checkpoint_id, encoder_id)
) WITHOUT ROWID;
CREATE INDEX checkpoint_encoder_by_encoder ON checkpoint_encoder(encoder_id);

INSERT INTO checkpoint_encoder (checkpoint_id, position, encoder_id)
SELECT id, 0, encoder_id FROM checkpoint WHERE encoder_id IS NOT NULL;
