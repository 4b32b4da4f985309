/*  lot_codec - the agency wire protocol, v1, v2 and v3, byte for byte, no I/O  */
#include "lot_codec.h"

#include <string.h>

unsigned
lot_codec_get_u16 (const uint8_t *data)
{
    return (unsigned) data [0] << 8 | data [1];
}

size_t
lot_codec_put_u16 (uint8_t *out, size_t capacity, unsigned value)
{
    if (capacity < 2 || value > UINT16_MAX)
        return 0;
    out [0] = (uint8_t) (value >> 8);
    out [1] = (uint8_t) value;
    return 2;
}

uint32_t
lot_codec_get_u32 (const uint8_t *data)
{
    return (uint32_t) data [0] << 24 | (uint32_t) data [1] << 16
         | (uint32_t) data [2] << 8 | data [3];
}

size_t
lot_codec_put_u32 (uint8_t *out, size_t capacity, uint32_t value)
{
    if (capacity < 4)
        return 0;
    out [0] = (uint8_t) (value >> 24);
    out [1] = (uint8_t) (value >> 16);
    out [2] = (uint8_t) (value >> 8);
    out [3] = (uint8_t) value;
    return 4;
}

size_t
lot_codec_put_string (uint8_t *out, size_t capacity, lot_span_t text)
{
    if (text.size > UINT16_MAX || capacity < 2 + text.size)
        return 0;
    lot_codec_put_u16 (out, capacity, (unsigned) text.size);
    if (text.size)              //  An empty span may have no data pointer
        memcpy (out + 2, text.data, text.size);
    return 2 + text.size;
}

lot_codec_status_t
lot_codec_string_measure (const uint8_t *data, size_t size, size_t max,
                          size_t *total)
{
    if (size < 2)
        return LOT_CODEC_INCOMPLETE;
    size_t length = lot_codec_get_u16 (data);
    if (length > max)
        return LOT_CODEC_INVALID;
    if (size < 2 + length)
        return LOT_CODEC_INCOMPLETE;
    *total = 2 + length;
    return LOT_CODEC_COMPLETE;
}

unsigned
lot_codec_chunk_count (const uint8_t *data, size_t size, bool numbered)
{
    size_t header = numbered ? LOT_NUMBERED_HEADER : 0;
    return size >= header + 3 ? lot_codec_get_u16 (data + header + 1) : 0;
}

//  Frames tag, head - 1 more bytes, then a string of at most max bytes:
//  the shape of 'W', 'H' and 'E'.
static lot_codec_status_t
s_tagged_string_measure (const uint8_t *data, size_t size, uint8_t tag, size_t head,
                         size_t max, lot_span_t *text, size_t *total)
{
    if (size >= 1 && data [0] != tag)
        return LOT_CODEC_INVALID;
    if (size < head)
        return LOT_CODEC_INCOMPLETE;
    size_t string;
    lot_codec_status_t status = lot_codec_string_measure (data + head, size - head, max,
                                                          &string);
    if (status == LOT_CODEC_COMPLETE) {
        *text = (lot_span_t) { .data = (const char *) data + head + 2, .size = string - 2 };
        *total = head + string;
    }
    return status;
}

//  Writes tag, then text as a string: the shape of 'E' and 'W'.
static size_t
s_tagged_string_encode (uint8_t *out, size_t capacity, uint8_t tag, lot_span_t text)
{
    if (capacity < 1)
        return 0;
    size_t put = lot_codec_put_string (out + 1, capacity - 1, text);
    if (put == 0)
        return 0;
    out [0] = tag;
    return 1 + put;
}

lot_codec_status_t
lot_codec_chunk_measure (const uint8_t *data, size_t size, size_t max,
                         size_t *chunk_size, const char **reason)
{
    if (size < 1)
        return LOT_CODEC_INCOMPLETE;
    if (data [0] != LOT_TAG_CHUNK && data [0] != LOT_TAG_LAST) {
        *reason = "unknown message tag";
        return LOT_CODEC_INVALID;
    }
    if (size < 3)
        return LOT_CODEC_INCOMPLETE;
    size_t strings = 1 + (size_t) lot_codec_get_u16 (data + 1) * LOT_BET_FIELDS;
    //  Every string takes two bytes at least: reject what cannot fit
    //  before reading any of it.
    if (3 + 2 * strings > max) {
        *reason = "chunk larger than the packet limit";
        return LOT_CODEC_INVALID;
    }
    size_t offset = 3;
    for (size_t i = 0; i < strings; i++) {
        if (size < offset + 2)
            return LOT_CODEC_INCOMPLETE;
        size_t next = offset + 2 + lot_codec_get_u16 (data + offset);
        if (next + 2 * (strings - i - 1) > max) {
            *reason = "chunk larger than the packet limit";
            return LOT_CODEC_INVALID;
        }
        offset = next;
    }
    if (size < offset)
        return LOT_CODEC_INCOMPLETE;
    *chunk_size = offset;
    return LOT_CODEC_COMPLETE;
}

static int
s_read_string (lot_chunk_reader_t *reader, lot_span_t *text)
{
    if (reader->end - reader->cursor < 2)
        return -1;
    size_t length = lot_codec_get_u16 (reader->cursor);
    if ((size_t) (reader->end - reader->cursor) - 2 < length)
        return -1;
    text->data = (const char *) reader->cursor + 2;
    text->size = length;
    reader->cursor += 2 + length;
    return 0;
}

int
lot_codec_chunk_open (lot_chunk_reader_t *reader, const uint8_t *data,
                      size_t size)
{
    if (size < 3 || (data [0] != LOT_TAG_CHUNK && data [0] != LOT_TAG_LAST))
        return -1;
    reader->last = data [0] == LOT_TAG_LAST;
    reader->count = lot_codec_get_u16 (data + 1);
    reader->left = reader->count;
    reader->cursor = data + 3;
    reader->end = data + size;
    return s_read_string (reader, &reader->agency);
}

int
lot_codec_chunk_next (lot_chunk_reader_t *reader,
                      lot_span_t fields [LOT_BET_FIELDS])
{
    if (reader->left == 0)
        return reader->cursor == reader->end ? 0 : -1;
    for (int i = 0; i < LOT_BET_FIELDS; i++)
        if (s_read_string (reader, &fields [i]))
            return -1;
    reader->left--;
    return 1;
}

int
lot_codec_chunk_start (lot_chunk_writer_t *writer, uint8_t *data,
                       size_t capacity, lot_span_t agency)
{
    *writer = (lot_chunk_writer_t) { .data = data, .capacity = capacity, .size = 3 };
    if (capacity < 3)
        return -1;
    size_t put = lot_codec_put_string (data + 3, capacity - 3, agency);
    if (put == 0)
        return -1;
    writer->size += put;
    return 0;
}

int
lot_codec_chunk_add (lot_chunk_writer_t *writer,
                     const lot_span_t fields [LOT_BET_FIELDS])
{
    if (writer->count == UINT16_MAX)
        return -1;
    size_t size = writer->size;
    for (int i = 0; i < LOT_BET_FIELDS; i++) {
        size_t put = lot_codec_put_string (writer->data + size,
                                           writer->capacity - size, fields [i]);
        if (put == 0)
            return -1;
        size += put;
    }
    writer->size = size;
    writer->count++;
    return 0;
}

size_t
lot_codec_chunk_finish (lot_chunk_writer_t *writer, bool last)
{
    writer->data [0] = last ? LOT_TAG_LAST : LOT_TAG_CHUNK;
    lot_codec_put_u16 (writer->data + 1, 2, writer->count);
    return writer->size;
}

size_t
lot_codec_error_encode (uint8_t *out, size_t capacity, const char *reason)
{
    lot_span_t text = { .data = reason, .size = strnlen (reason, LOT_REASON_MAX) };
    return s_tagged_string_encode (out, capacity, LOT_TAG_ERROR, text);
}

lot_codec_status_t
lot_codec_error_measure (const uint8_t *data, size_t size, lot_span_t *reason,
                         size_t *total)
{
    return s_tagged_string_measure (data, size, LOT_TAG_ERROR, 1, UINT16_MAX, reason,
                                    total);
}

size_t
lot_codec_winners_encode (uint8_t *out, size_t capacity, const char *documents,
                          size_t size)
{
    size_t used = 2;
    unsigned count = 0;
    for (size_t start = 0, end; start < size; start = end + 1, count++) {
        const char *newline = memchr (documents + start, '\n', size - start);
        end = newline ? (size_t) (newline - documents) : size;
        lot_span_t document = { .data = documents + start, .size = end - start };
        size_t put = used < capacity
                   ? lot_codec_put_string (out + used, capacity - used, document)
                   : 0;
        if (put == 0)
            return 0;
        used += put;
    }
    return lot_codec_put_u16 (out, capacity, count) && count <= UINT16_MAX ? used : 0;
}

unsigned
lot_codec_winners_count (const uint8_t *answer, size_t size)
{
    return size >= 2 ? lot_codec_get_u16 (answer) : 0;
}

lot_codec_status_t
lot_codec_winners_measure (const uint8_t *data, size_t size, size_t max,
                           lot_winners_reader_t *reader, size_t *total)
{
    if (size < 2)
        return LOT_CODEC_INCOMPLETE;
    unsigned count = lot_codec_get_u16 (data);
    size_t used = 2, string;
    for (unsigned i = 0; i < count; i++, used += string) {
        lot_codec_status_t status = lot_codec_string_measure (data + used, size - used,
                                                              max, &string);
        if (status != LOT_CODEC_COMPLETE)
            return status;
    }
    *reader = (lot_winners_reader_t) { .count = count, .left = count, .cursor = data + 2 };
    *total = used;
    return LOT_CODEC_COMPLETE;
}

int
lot_codec_winners_next (lot_winners_reader_t *reader, lot_span_t *document)
{
    if (reader->left == 0)
        return 0;
    //  Measured whole: every string is there
    size_t length = lot_codec_get_u16 (reader->cursor);
    *document = (lot_span_t) { .data = (const char *) reader->cursor + 2, .size = length };
    reader->cursor += 2 + length;
    reader->left--;
    return 1;
}

size_t
lot_codec_query_encode (uint8_t *out, size_t capacity, lot_span_t agency)
{
    if (agency.size > LOT_HELLO_AGENCY_MAX)
        return 0;
    return s_tagged_string_encode (out, capacity, LOT_TAG_WINNERS, agency);
}

lot_codec_status_t
lot_codec_query_measure (const uint8_t *data, size_t size, lot_span_t *agency,
                         size_t *total)
{
    return s_tagged_string_measure (data, size, LOT_TAG_WINNERS, 1, LOT_HELLO_AGENCY_MAX,
                                    agency, total);
}

size_t
lot_codec_hello_encode (uint8_t *out, size_t capacity, unsigned version,
                        lot_span_t agency)
{
    if (capacity < 3 || agency.size > LOT_HELLO_AGENCY_MAX)
        return 0;
    size_t put = lot_codec_put_string (out + 3, capacity - 3, agency);
    if (put == 0 || lot_codec_put_u16 (out + 1, 2, version) == 0)
        return 0;
    out [0] = LOT_TAG_HELLO;
    return 3 + put;
}

lot_codec_status_t
lot_codec_hello_measure (const uint8_t *data, size_t size, unsigned *version,
                         lot_span_t *agency, size_t *total)
{
    lot_codec_status_t status = s_tagged_string_measure (data, size, LOT_TAG_HELLO, 3,
                                                         LOT_HELLO_AGENCY_MAX, agency,
                                                         total);
    if (status == LOT_CODEC_COMPLETE)
        *version = lot_codec_get_u16 (data + 1);
    return status;
}

size_t
lot_codec_stored_size (unsigned version)
{
    return version == LOT_PROTOCOL_V2 ? LOT_STORED_SIZE_V2
         : version == LOT_PROTOCOL_VERSION ? LOT_STORED_SIZE_V3 : 0;
}

bool
lot_codec_version_known (unsigned version)
{
    return lot_codec_stored_size (version) > 0;
}

size_t
lot_codec_stored_encode (uint8_t *out, size_t capacity, unsigned version,
                         uint32_t stored, bool finished,
                         const uint8_t digest [LOT_DIGEST_SIZE])
{
    size_t size = lot_codec_stored_size (version);
    if (size == 0 || capacity < size)
        return 0;
    out [0] = LOT_TAG_STORED;
    lot_codec_put_u32 (out + 1, 4, stored);
    out [5] = finished ? 1 : 0;
    if (size > LOT_STORED_SIZE_V2)
        memcpy (out + LOT_STORED_SIZE_V2, digest, LOT_DIGEST_SIZE);
    return size;
}

lot_codec_status_t
lot_codec_stored_measure (const uint8_t *data, size_t size, unsigned version,
                          uint32_t *stored, bool *finished, const uint8_t **digest,
                          size_t *total)
{
    size_t want = lot_codec_stored_size (version);
    if (want == 0 || (size >= 1 && data [0] != LOT_TAG_STORED))
        return LOT_CODEC_INVALID;
    if (size >= 6 && data [5] > 1)
        return LOT_CODEC_INVALID;
    if (size < want)
        return LOT_CODEC_INCOMPLETE;
    *stored = lot_codec_get_u32 (data + 1);
    *finished = data [5] == 1;
    *digest = want > LOT_STORED_SIZE_V2 ? data + LOT_STORED_SIZE_V2 : NULL;
    *total = want;
    return LOT_CODEC_COMPLETE;
}

size_t
lot_codec_numbered_encode (uint8_t *out, size_t capacity, uint32_t position)
{
    if (capacity < LOT_NUMBERED_HEADER)
        return 0;
    out [0] = LOT_TAG_NUMBERED;
    lot_codec_put_u32 (out + 1, 4, position);
    return LOT_NUMBERED_HEADER;
}

lot_codec_status_t
lot_codec_numbered_measure (const uint8_t *data, size_t size, size_t max,
                            uint32_t *position, size_t *chunk_size,
                            const char **reason)
{
    if (size >= 1 && data [0] != LOT_TAG_NUMBERED) {
        *reason = "unknown message tag";
        return LOT_CODEC_INVALID;
    }
    if (size < LOT_NUMBERED_HEADER)
        return LOT_CODEC_INCOMPLETE;
    lot_codec_status_t status = lot_codec_chunk_measure (
        data + LOT_NUMBERED_HEADER, size - LOT_NUMBERED_HEADER, max, chunk_size, reason);
    if (status == LOT_CODEC_COMPLETE)
        *position = lot_codec_get_u32 (data + 1);
    return status;
}
