// What the upload endpoint (/api/uploads, tus 1.0) adds to the protocol, shared by the server and the
// `hangar` CLI, which must not import the server's modules.

/**
 * The sha256 a client may send with the PATCH that finishes an upload, when it hashed the file while
 * sending it rather than before (the CLI's push): the server checks the whole file against it, as it
 * does the `sha256` given in the metadata when the upload started.
 */
export const EXPECTED_SHA256_HEADER = "Hangar-Expected-Sha256";

/** The version an upload makes, named in the answer to the POST that creates it. */
export const VERSION_ID_HEADER = "Hangar-Version-Id";
