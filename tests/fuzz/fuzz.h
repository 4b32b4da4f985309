/*  fuzz - what the libFuzzer targets in tests/fuzz share

    Inputs of the wire targets (fuzz_codec, fuzz_stream) start with
    FUZZ_HEADER bytes that are not what a peer sent: the packet limit the
    bytes are framed with, and where TCP cuts them (tests/fuzz/corpus.c
    writes its seeds the same way).
*/
#ifndef FUZZ_H_INCLUDED
#define FUZZ_H_INCLUDED

#include "lot_csv.h"

#include <stdint.h>

#define FUZZ_HEADER         2
#define FUZZ_MAX_DEFAULT    127     //  The header byte that means 8192

typedef struct {
    size_t max;                 //  Packet limit: 64 to 16384 in steps of 64
    uint8_t cut;                //  Where TCP cuts, or what seeds the cuts
    const uint8_t *data;        //  What the peer sent
    size_t size;
} fuzz_wire_t;

//  Reads a wire input; returns -1 when it is too short for a header.
int fuzz_wire (const uint8_t *input, size_t size, fuzz_wire_t *wire);

//  A path that opens to a file holding data (a memory file, rewritten on
//  every call): for parsers that take a path.
const char *fuzz_file (const uint8_t *data, size_t size);

//  A copy of data in a heap block of exactly size bytes, so that
//  AddressSanitizer reports any read past it. The caller frees it.
uint8_t *fuzz_copy (const uint8_t *data, size_t size);

//  A CSV reader of size bytes at data (not 0: fmemopen takes no empty
//  buffer), from a memory stream.
lot_csv_t *fuzz_csv (const void *data, size_t size);

#endif
