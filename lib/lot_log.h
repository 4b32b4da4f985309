/*  lot_log - log lines in the course format

    Every program writes one line per event to standard output:

        2026-11-26 16:00:00 INFO     action: sorteo | result: success

    Graders parse these lines, so the shape is fixed here and nowhere else.
    Each line is formatted whole and written with one call, then flushed,
    so lines from different threads never interleave.
*/
#ifndef LOT_LOG_H_INCLUDED
#define LOT_LOG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    LOT_LOG_DEBUG = 10,
    LOT_LOG_INFO = 20,
    LOT_LOG_WARNING = 30,
    LOT_LOG_ERROR = 40,
    LOT_LOG_CRITICAL = 50
} lot_log_level_t;

//  Parses a level name (DEBUG, INFO, WARNING, ERROR, CRITICAL, any case).
//  Returns 0 and sets *level, or -1 for an unknown name.
int lot_log_level_parse (const char *name, lot_log_level_t *level);

//  Returns the canonical name of a level.
const char *lot_log_level_name (lot_log_level_t level);

//  Sets the lowest level that is written; INFO by default.
void lot_log_set_level (lot_log_level_t level);

//  True when lines of this level are written.
bool lot_log_enabled (lot_log_level_t level);

//  Writes one line: the timestamp, the level padded to 8, then the text.
void lot_log (lot_log_level_t level, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Copies size bytes of text a peer sent into out (NUL-terminated, as
//  far as it fits), each byte that would break a log line (a control
//  byte, DEL, the field separator '|') masked as '?'.
void lot_log_printable (const char *text, size_t size, char *out, size_t capacity);

//  Lines this thread logs between hold and release reach stdout in one
//  write at the release (or sooner, when another thread's line flushes
//  them): a group of lines costs one system call, not one each.
void lot_log_hold (void);
void lot_log_release (void);

#define lot_log_debug(...)   lot_log (LOT_LOG_DEBUG, __VA_ARGS__)
#define lot_log_info(...)    lot_log (LOT_LOG_INFO, __VA_ARGS__)
#define lot_log_warning(...) lot_log (LOT_LOG_WARNING, __VA_ARGS__)
#define lot_log_error(...)   lot_log (LOT_LOG_ERROR, __VA_ARGS__)

#endif
