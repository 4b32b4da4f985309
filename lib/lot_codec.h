/*  lot_codec - the agency wire protocol, v1, v2 and v3, byte for byte, no I/O

    Strings are a big-endian u16 length and that many bytes. A chunk is
    tag ('C' more follow, 'L' last), count u16, agency string, then five
    strings per bet. There is no outer length: framing means walking the
    fields, which lot_codec_chunk_measure does without copying.

    Protocol v2 (resumable uploads; a v1 client never sends it) opens a
    bets connection with 'H' version agency instead of 'B', is answered
    'S' stored finished, and numbers each chunk: 'N' position, then a v1
    chunk. A chunk's position is how many of its agency's bets come before
    it, so a chunk sent again is known by it. Protocol v3 is v2 with the
    digest of the agency's stored bets at the end of 'S' (lot_digest.h): a
    client whose own first bets differ sends 'E' with why instead of a
    chunk, and closes. See docs/protocol.md.

    The front-end only frames (measure); handlers decode (chunk_reader);
    the agency client encodes (chunk_writer) and reads the answers
    ('E', 'S', the winners) with the measures beside their encoders.
*/
#ifndef LOT_CODEC_H_INCLUDED
#define LOT_CODEC_H_INCLUDED

#include "lot_bet.h"
#include "lot_digest.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOT_TAG_BETS        'B'     //  Opens a bets connection
#define LOT_TAG_CHUNK       'C'     //  A chunk, more follow
#define LOT_TAG_LAST        'L'     //  The agency's last chunk
#define LOT_TAG_WINNERS     'W'     //  Winners query
#define LOT_TAG_OK          'O'     //  Chunk stored
#define LOT_TAG_ERROR       'E'     //  Chunk rejected, with a reason
//  Extension: a health check that stores nothing. A v1 client never sends
//  it; the server answers 'O' and closes.
#define LOT_TAG_PING        'P'
//  Protocol v2
#define LOT_TAG_HELLO       'H'     //  Opens a bets connection: version, agency
#define LOT_TAG_STORED      'S'     //  Answers 'H': bets stored, finished (v3: digest)
#define LOT_TAG_NUMBERED    'N'     //  Position u32, then a chunk
//  The versions 'H' may say: 2, and 3 (the newest), which is 2 with the
//  digest in 'S'
#define LOT_PROTOCOL_V2         2
#define LOT_PROTOCOL_VERSION    3
//  The 'E' reason that answers 'H' with any other version
#define LOT_REASON_VERSION  "unsupported protocol version"
//  The 'E' reason that answers 'H' while another live connection uploads
//  for the agency: the client tries again, as for a refused connection
#define LOT_REASON_BUSY     "agency busy on another connection"

#define LOT_HELLO_AGENCY_MAX    10  //  Digits of an agency id
//  'S': 'S', u32 stored, finished byte; v3 adds the digest of those bets
#define LOT_STORED_SIZE_V2      6
#define LOT_STORED_SIZE_V3      (LOT_STORED_SIZE_V2 + LOT_DIGEST_SIZE)
#define LOT_NUMBERED_HEADER     5   //  'N', u32 position
#define LOT_REASON_MAX          255 //  Bytes of a reason we send in 'E'
//  The longest answer to a chunk or an 'H': 'E' and the longest reason
#define LOT_ANSWER_MAX          (1 + 2 + LOT_REASON_MAX)

#define LOT_CHUNK_MAX_DEFAULT   8192
#define LOT_BET_FIELDS          5   //  Strings per bet on the wire
#define LOT_CHUNK_HEADER_MIN    5   //  Tag, count and an empty agency

typedef enum {
    LOT_CODEC_INVALID = -1,         //  Never decodes: reject, close
    LOT_CODEC_INCOMPLETE = 0,       //  Needs more bytes
    LOT_CODEC_COMPLETE = 1
} lot_codec_status_t;

//  Frames the chunk at the start of data. COMPLETE sets *chunk_size;
//  INVALID sets *reason (an unknown tag, or a chunk that announces or
//  reaches more than max bytes). Only what has arrived is read.
lot_codec_status_t lot_codec_chunk_measure (const uint8_t *data, size_t size,
                                            size_t max, size_t *chunk_size,
                                            const char **reason);

//  The bets the chunk at the start of data says it holds ('N' position
//  first when numbered), read from what has arrived: 0 before its count
//  has. For the logs about a chunk that cannot be framed.
unsigned lot_codec_chunk_count (const uint8_t *data, size_t size, bool numbered);

//  Frames one string at the start of data; COMPLETE sets *total (2 + n).
//  A string longer than max is INVALID.
lot_codec_status_t lot_codec_string_measure (const uint8_t *data, size_t size,
                                             size_t max, size_t *total);

//  Reads a complete chunk (as framed by lot_codec_chunk_measure).
typedef struct {
    bool last;
    unsigned count;
    lot_span_t agency;
    const uint8_t *cursor;
    const uint8_t *end;
    unsigned left;
} lot_chunk_reader_t;

//  Returns 0 with the header read, or -1 when the bytes are no chunk.
int lot_codec_chunk_open (lot_chunk_reader_t *reader,
                          const uint8_t *data, size_t size);

//  Reads the next bet's five strings. Returns 1 for a bet, 0 after the
//  last bet (when no byte is left over), -1 when the bytes do not fit.
int lot_codec_chunk_next (lot_chunk_reader_t *reader,
                          lot_span_t fields [LOT_BET_FIELDS]);

//  Builds a chunk in a caller's buffer, bet by bet, never past capacity.
typedef struct {
    uint8_t *data;
    size_t capacity;
    size_t size;
    unsigned count;
} lot_chunk_writer_t;

//  Starts a chunk for an agency. Returns -1 when it does not fit.
int lot_codec_chunk_start (lot_chunk_writer_t *writer, uint8_t *data,
                           size_t capacity, lot_span_t agency);

//  Adds a bet's five strings. Returns -1, leaving the chunk as it was,
//  when the bet does not fit or the chunk already holds 65535 bets.
int lot_codec_chunk_add (lot_chunk_writer_t *writer,
                         const lot_span_t fields [LOT_BET_FIELDS]);

//  Sets the tag and the count; returns the encoded size.
size_t lot_codec_chunk_finish (lot_chunk_writer_t *writer, bool last);

//  The other messages. Each encoder returns the bytes written, or 0 when
//  they do not fit. Reasons longer than LOT_REASON_MAX bytes are cut there.
size_t lot_codec_error_encode (uint8_t *out, size_t capacity, const char *reason);
//  Frames 'E' reason at the start of data; COMPLETE sets *reason
//  (pointing into data) and *total. A reason of any length is read (ours
//  are cut at LOT_REASON_MAX, another server's may not be); anything but
//  'E' is INVALID.
lot_codec_status_t lot_codec_error_measure (const uint8_t *data, size_t size,
                                            lot_span_t *reason, size_t *total);

//  The winners answer: a count, then each of documents (each followed by
//  a newline) as a string. Needs at most 2 + 2 * size bytes; 0 also when
//  there are more than 65535 documents.
size_t lot_codec_winners_encode (uint8_t *out, size_t capacity, const char *documents,
                                 size_t size);
//  The documents an encoded winners answer holds: 0 when it is shorter
//  than its count.
unsigned lot_codec_winners_count (const uint8_t *answer, size_t size);

//  Reads the documents of a winners answer that lot_codec_winners_measure
//  found complete.
typedef struct {
    unsigned count;             //  Documents in the answer
    unsigned left;
    const uint8_t *cursor;
} lot_winners_reader_t;

//  Frames the winners answer at the start of data; COMPLETE sets *total
//  and *reader, ready to read its documents. A document longer than max
//  bytes is INVALID.
lot_codec_status_t lot_codec_winners_measure (const uint8_t *data, size_t size,
                                              size_t max, lot_winners_reader_t *reader,
                                              size_t *total);
//  The next document (pointing into the answer): 1, or 0 after the last.
int lot_codec_winners_next (lot_winners_reader_t *reader, lot_span_t *document);
//  The winners query: 'W', then the agency as a string; 0 when it does
//  not fit or the agency is longer than LOT_HELLO_AGENCY_MAX.
size_t lot_codec_query_encode (uint8_t *out, size_t capacity, lot_span_t agency);
size_t lot_codec_hello_encode (uint8_t *out, size_t capacity, unsigned version,
                               lot_span_t agency);
//  True for a version 'H' may say (2 or 3).
bool lot_codec_version_known (unsigned version);
//  The size of 'S' in a version: LOT_STORED_SIZE_V2 or _V3; 0 for one
//  that has no 'S'.
size_t lot_codec_stored_size (unsigned version);
//  'S' as version says it; digest (LOT_DIGEST_SIZE bytes) only in v3, may
//  be NULL in v2. 0 also for a version that has no 'S'.
size_t lot_codec_stored_encode (uint8_t *out, size_t capacity, unsigned version,
                                uint32_t stored, bool finished,
                                const uint8_t digest [LOT_DIGEST_SIZE]);
size_t lot_codec_numbered_encode (uint8_t *out, size_t capacity, uint32_t position);

//  Frames 'H' version agency at the start of data; COMPLETE sets
//  *version, *agency (pointing into data) and *total. An agency longer
//  than LOT_HELLO_AGENCY_MAX is INVALID.
lot_codec_status_t lot_codec_hello_measure (const uint8_t *data, size_t size,
                                            unsigned *version, lot_span_t *agency,
                                            size_t *total);

//  Frames 'W' agency at the start of data; COMPLETE sets *agency
//  (pointing into data) and *total. An agency longer than
//  LOT_HELLO_AGENCY_MAX is INVALID.
lot_codec_status_t lot_codec_query_measure (const uint8_t *data, size_t size,
                                            lot_span_t *agency, size_t *total);

//  Frames 'S' as version says it at the start of data; COMPLETE sets
//  *stored, *finished, *digest (v3: LOT_DIGEST_SIZE bytes inside data;
//  v2: NULL) and *total (lot_codec_stored_size). A tag but 'S', or a
//  finished byte but 0 or 1, is INVALID as soon as it arrives; so is any
//  'S' in a version that has none.
lot_codec_status_t lot_codec_stored_measure (const uint8_t *data, size_t size,
                                             unsigned version, uint32_t *stored,
                                             bool *finished, const uint8_t **digest,
                                             size_t *total);

//  Frames 'N' position and its chunk; COMPLETE sets *position and
//  *chunk_size (the chunk alone, which starts LOT_NUMBERED_HEADER bytes
//  in). The chunk is framed as lot_codec_chunk_measure does, with max.
lot_codec_status_t lot_codec_numbered_measure (const uint8_t *data, size_t size,
                                               size_t max, uint32_t *position,
                                               size_t *chunk_size,
                                               const char **reason);

//  Primitives. Each put returns the bytes written, or 0 when they do not
//  fit (or a string is longer than 65535 bytes).
size_t lot_codec_put_u16 (uint8_t *out, size_t capacity, unsigned value);
size_t lot_codec_put_u32 (uint8_t *out, size_t capacity, uint32_t value);
size_t lot_codec_put_string (uint8_t *out, size_t capacity, lot_span_t text);
unsigned lot_codec_get_u16 (const uint8_t *data);
uint32_t lot_codec_get_u32 (const uint8_t *data);

#endif
