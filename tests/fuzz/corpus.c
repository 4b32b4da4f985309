/*  corpus - seeds for the fuzz targets: fuzz-corpus DATA_DIR OUT

    Writes into OUT/<target>/ what peers really send, made with the
    codec's writers from the first bets of each DATA_DIR/agency-N.csv,
    and without the data what needs none (a ping, a winners query, an
    empty last chunk, an 'E', a winners answer). The wire seeds start
    with fuzz.h's header.
*/
#include "fuzz.h"
#include "lot_codec.h"
#include "lot_csv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_AGENCIES  5
#define S_CSV_BYTES 4096        //  Of each data file, whole lines

static const char *s_out;

//  A seed: OUT/target/name holds the header (a wire target's), then data.
static void
s_seed (const char *target, const uint8_t *data, size_t size, const char *format, ...)
{
    char name [64], path [512];
    va_list args;
    va_start (args, format);
    vsnprintf (name, sizeof name, format, args);
    va_end (args);
    //  Its folder too: make fuzz may run only some of the targets
    snprintf (path, sizeof path, "%s/%s", s_out, target);
    mkdir (path, 0755);
    snprintf (path, sizeof path, "%s/%s/%s", s_out, target, name);
    FILE *file = fopen (path, "wb");
    const uint8_t header [FUZZ_HEADER] = { FUZZ_MAX_DEFAULT, 128 };
    bool wire = strcmp (target, "fuzz_csv") != 0;
    if (!file
    ||  (wire && fwrite (header, 1, sizeof header, file) != sizeof header)
    ||  fwrite (data, 1, size, file) != size
    ||  fclose (file)) {
        perror (path);
        exit (1);
    }
}

//  Appends a chunk of up to count bets from csv; returns its size, 0 when
//  the file has none left.
static size_t
s_chunk (lot_csv_t *csv, const char *agency, unsigned count, bool last, uint8_t *out,
         size_t capacity)
{
    lot_chunk_writer_t writer;
    lot_span_t fields [LOT_BET_FIELDS];
    if (lot_codec_chunk_start (&writer, out, capacity,
                               (lot_span_t) { .data = agency, .size = strlen (agency) }))
        return 0;
    while (writer.count < count
       &&  lot_csv_next (csv, fields, LOT_BET_FIELDS) == LOT_BET_FIELDS)
        if (lot_codec_chunk_add (&writer, fields))
            return 0;
    return writer.count ? lot_codec_chunk_finish (&writer, last) : 0;
}

//  The seeds one agency's data gives: its 'H', chunks of 1, 3 and 10 bets
//  (the last one 'L') alone, numbered and in v1, v2 and v3 streams, the
//  'S' of each version that answers them, and the file's first lines as
//  they are.
static void
s_agency (const char *dir, int agency)
{
    char path [512], id [12];
    snprintf (path, sizeof path, "%s/agency-%d.csv", dir, agency);
    snprintf (id, sizeof id, "%d", agency);
    lot_csv_t *csv = lot_csv_new (path);
    if (!csv)
        return;
    static uint8_t v1 [3 * LOT_CHUNK_MAX_DEFAULT], v2 [3 * LOT_CHUNK_MAX_DEFAULT];
    size_t v1_size = 0, v2_size = 0;
    v1 [v1_size++] = LOT_TAG_BETS;
    //  v3's stream: v2's, its 'H' saying 3
    uint8_t hello [3 + 2 + LOT_HELLO_AGENCY_MAX];
    size_t hello_size = lot_codec_hello_encode (hello, sizeof hello, LOT_PROTOCOL_VERSION,
                                                (lot_span_t) { .data = id,
                                                               .size = strlen (id) });
    s_seed ("fuzz_codec", hello, hello_size, "agency-%d-hello-v3", agency);
    v2_size += lot_codec_hello_encode (v2, sizeof v2, LOT_PROTOCOL_V2,
                                       (lot_span_t) { .data = id, .size = strlen (id) });
    s_seed ("fuzz_codec", v2, v2_size, "agency-%d-hello", agency);
    const unsigned counts [] = { 1, 3, 10 };
    uint32_t position = 0;
    for (size_t i = 0; i < 3; i++) {
        size_t size = s_chunk (csv, id, counts [i], i == 2, v1 + v1_size,
                               sizeof v1 - v1_size);
        if (size == 0)
            break;
        s_seed ("fuzz_codec", v1 + v1_size, size, "agency-%d-chunk-%u", agency, counts [i]);
        v2_size += lot_codec_numbered_encode (v2 + v2_size, sizeof v2 - v2_size, position);
        memcpy (v2 + v2_size, v1 + v1_size, size);
        s_seed ("fuzz_codec", v2 + v2_size - LOT_NUMBERED_HEADER, LOT_NUMBERED_HEADER + size,
                "agency-%d-numbered-%u", agency, counts [i]);
        v1_size += size;
        v2_size += size;
        position += counts [i];
    }
    lot_csv_destroy (&csv);
    uint8_t stored [LOT_STORED_SIZE_V3], digest [LOT_DIGEST_SIZE];
    memset (digest, 0xA5, sizeof digest);
    s_seed ("fuzz_codec", stored, lot_codec_stored_encode (stored, sizeof stored, 3, position,
                                                           true, digest),
            "agency-%d-stored", agency);
    s_seed ("fuzz_codec", stored, lot_codec_stored_encode (stored, sizeof stored, 2, position,
                                                           true, NULL),
            "agency-%d-stored-v2", agency);
    s_seed ("fuzz_stream", v1, v1_size, "agency-%d-v1", agency);
    s_seed ("fuzz_stream", v2, v2_size, "agency-%d-v2", agency);
    //  v3's 'H' is as long as v2's: only its version byte differs
    v2 [2] = LOT_PROTOCOL_VERSION;
    s_seed ("fuzz_stream", v2, v2_size, "agency-%d-v3", agency);

    FILE *file = fopen (path, "rb");
    static uint8_t lines [S_CSV_BYTES];
    size_t size = file ? fread (lines, 1, sizeof lines, file) : 0;
    while (size > 0 && lines [size - 1] != '\n')
        size--;
    if (file)
        fclose (file);
    if (size > 0)
        s_seed ("fuzz_csv", lines, size, "agency-%d.csv", agency);
}

int
main (int argc, char *argv [])
{
    if (argc != 3) {
        fprintf (stderr, "usage: %s DATA_DIR OUT\n", argv [0]);
        return 1;
    }
    s_out = argv [2];
    for (int agency = 1; agency <= S_AGENCIES; agency++)
        s_agency (argv [1], agency);
    s_seed ("fuzz_stream", (const uint8_t *) "P", 1, "ping");
    s_seed ("fuzz_stream", (const uint8_t *) "W\x00\x01" "1", 4, "winners");
    s_seed ("fuzz_stream", (const uint8_t *) "BL\x00\x00\x00\x01" "1", 7, "empty-last");
    s_seed ("fuzz_codec", (const uint8_t *) "L\x00\x00\x00\x01" "1", 6, "empty-last");
    uint8_t answer [LOT_ANSWER_MAX];
    s_seed ("fuzz_codec", answer, lot_codec_error_encode (answer, sizeof answer, LOT_REASON_BUSY),
            "error");
    static const char winners [] = "30170921\n12345678\n";
    s_seed ("fuzz_codec", answer,
            lot_codec_winners_encode (answer, sizeof answer, winners, sizeof winners - 1),
            "winners");
    return 0;
}
