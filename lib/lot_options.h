/*  lot_options - settings described by a table

    A program describes its settings once, as a table of lot_option_t:
    the key in its config file, the environment variable that overrides
    it, the name shown in the `action: config` line, its type, limits and
    default. Loading, overriding and printing all follow that table, so a
    new setting is one row.
*/
#ifndef LOT_OPTIONS_H_INCLUDED
#define LOT_OPTIONS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum {
    LOT_OPTION_INT,         //  long, from min to max
    LOT_OPTION_BOOL,        //  bool: 1/0, true/false, yes/no, on/off
    LOT_OPTION_STRING,      //  char *, owned by the settings
    LOT_OPTION_LEVEL,       //  lot_log_level_t
    LOT_OPTION_DURATION     //  long milliseconds: "250ms", "5s", "2m" or plain ms
} lot_option_type_t;

typedef struct {
    const char *file_key;   //  Key in the config file (case-insensitive)
    const char *env;        //  Environment variable that overrides it
    const char *name;       //  Key in the config line
    lot_option_type_t type;
    size_t offset;          //  Where the value lives in the settings struct
    const char *fallback;   //  Default, as text; NULL: none (stays 0 or NULL)
    long min;
    long max;
    const char *help;       //  What it does, for --help and docs/settings.md
} lot_option_t;

//  Sets every option to its default. Returns 0, or -1 (bug in a table).
int lot_options_defaults (const lot_option_t *table, size_t count, void *base);

//  Sets the option whose file key matches. Returns 0 when set, 1 when no
//  option has that key, -1 when the value is invalid (*error explains).
int lot_options_set (const lot_option_t *table, size_t count, void *base,
                     const char *file_key, const char *value, char **error);

//  Applies every environment override. Returns 0, or -1 (*error explains).
int lot_options_apply_env (const lot_option_t *table, size_t count, void *base,
                           char **error);

//  Frees the strings the options own.
void lot_options_free (const lot_option_t *table, size_t count, void *base);

//  Returns " | name: value" for every option, freshly allocated; a string
//  that is unset or empty shows as "none".
char *lot_options_describe (const lot_option_t *table, size_t count,
                            const void *base);

//  Prints every option as a row of a Markdown table: the variable, the
//  config file's key (when the file has its own), the default, what it
//  does. docs/settings.md is these tables, so the docs follow the code.
void lot_options_print_help (const lot_option_t *table, size_t count, FILE *out);

//  An empty string setting is an unset one (NULL): freed.
void lot_options_unset_empty (char **value);

#endif
