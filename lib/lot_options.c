/*  lot_options - settings described by a table  */
#include "lot_options.h"
#include "lot_log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define s_field(base, option, type) ((type *) ((char *) (base) + (option)->offset))

static int
s_parse_long (const char *text, long *value)
{
    char *end;
    errno = 0;
    *value = strtol (text, &end, 10);
    return errno || end == text || *end ? -1 : 0;
}

static int
s_parse_duration (const char *text, long *ms)
{
    static const struct { const char *unit; double scale; } units [] = {
        { "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }
    };
    char *end;
    errno = 0;
    double value = strtod (text, &end);
    if (errno || end == text || !(value >= 0))      //  NaN fails too
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units [0]; i++)
        if (strcmp (end, units [i].unit) == 0) {
            double scaled = value * units [i].scale + 0.5;
            if (!(scaled < (double) LONG_MAX))      //  Inf, or no long
                return -1;
            *ms = (long) scaled;
            return 0;
        }
    return -1;
}

static int
s_parse_bool (const char *text, bool *value)
{
    static const char *yes [] = { "1", "true", "yes", "on" };
    static const char *no [] = { "0", "false", "no", "off" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp (text, yes [i]) == 0) { *value = true; return 0; }
        if (strcasecmp (text, no [i]) == 0) { *value = false; return 0; }
    }
    return -1;
}

//  Stores a value; on failure returns the kind of value expected.
static const char *
s_store (const lot_option_t *option, void *base, const char *value)
{
    static char expected [96];
    long number;
    switch (option->type) {
        case LOT_OPTION_INT:
            if (s_parse_long (value, &number)
            ||  number < option->min || number > option->max) {
                snprintf (expected, sizeof expected,
                          "expected an integer from %ld to %ld",
                          option->min, option->max);
                return expected;
            }
            *s_field (base, option, long) = number;
            return NULL;
        case LOT_OPTION_DURATION:
            if (s_parse_duration (value, &number)
            ||  number < option->min || number > option->max)
                return "expected a duration such as 500ms, 5s or 1m, within limits";
            *s_field (base, option, long) = number;
            return NULL;
        case LOT_OPTION_BOOL:
            if (s_parse_bool (value, s_field (base, option, bool)))
                return "expected true or false";
            return NULL;
        case LOT_OPTION_LEVEL:
            if (lot_log_level_parse (value, s_field (base, option, lot_log_level_t)))
                return "expected DEBUG, INFO, WARNING, ERROR or CRITICAL";
            return NULL;
        case LOT_OPTION_STRING: {
            if ((size_t) option->min > strlen (value))
                return "expected a non-empty value";
            char *copy = strdup (value);
            if (!copy)
                return "out of memory";
            char **slot = s_field (base, option, char *);
            free (*slot);
            *slot = copy;
            return NULL;
        }
    }
    return "unknown option type";
}

static int
s_set (const lot_option_t *option, void *base, const char *value, char **error)
{
    const char *expected = s_store (option, base, value);
    if (!expected)
        return 0;
    if (asprintf (error, "%s (%s) is '%s': %s", option->file_key, option->env,
                  value, expected) < 0)
        *error = NULL;
    return -1;
}

int
lot_options_defaults (const lot_option_t *table, size_t count, void *base)
{
    for (size_t i = 0; i < count; i++) {
        char *error = NULL;
        if (table [i].fallback
        &&  s_set (&table [i], base, table [i].fallback, &error)) {
            free (error);
            return -1;
        }
    }
    return 0;
}

int
lot_options_set (const lot_option_t *table, size_t count, void *base,
                 const char *file_key, const char *value, char **error)
{
    for (size_t i = 0; i < count; i++)
        if (table [i].file_key && strcasecmp (table [i].file_key, file_key) == 0)
            return s_set (&table [i], base, value, error);
    return 1;
}

int
lot_options_apply_env (const lot_option_t *table, size_t count, void *base,
                       char **error)
{
    for (size_t i = 0; i < count; i++) {
        const char *value = getenv (table [i].env);
        if (value && s_set (&table [i], base, value, error))
            return -1;
    }
    return 0;
}

void
lot_options_free (const lot_option_t *table, size_t count, void *base)
{
    for (size_t i = 0; i < count; i++)
        if (table [i].type == LOT_OPTION_STRING) {
            char **slot = s_field (base, &table [i], char *);
            free (*slot);
            *slot = NULL;
        }
}

char *
lot_options_describe (const lot_option_t *table, size_t count, const void *base)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        const lot_option_t *option = &table [i];
        fprintf (out, " | %s: ", option->name);
        switch (option->type) {
            case LOT_OPTION_INT:
                fprintf (out, "%ld", *s_field (base, option, long));
                break;
            case LOT_OPTION_DURATION:
                fprintf (out, "%ldms", *s_field (base, option, long));
                break;
            case LOT_OPTION_BOOL:
                fputs (*s_field (base, option, bool) ? "true" : "false", out);
                break;
            case LOT_OPTION_LEVEL:
                fputs (lot_log_level_name (*s_field (base, option, lot_log_level_t)), out);
                break;
            case LOT_OPTION_STRING: {
                //  Every detail has a value: an unset one says so
                const char *value = *s_field (base, option, char *);
                fputs (value && *value ? value : "none", out);
                break;
            }
        }
    }
    fclose (out);
    return text;
}

void
lot_options_print_help (const lot_option_t *table, size_t count, FILE *out)
{
    bool keys = false;          //  A config file whose keys are not the variables
    for (size_t i = 0; i < count; i++)
        keys |= strcmp (table [i].file_key, table [i].env) != 0;
    fputs (keys ? "| variable | config key | default | what |\n|---|---|---|---|\n"
                : "| variable | default | what |\n|---|---|---|\n", out);
    for (size_t i = 0; i < count; i++) {
        const lot_option_t *option = &table [i];
        fprintf (out, "| `%s` |", option->env);
        if (keys)
            fprintf (out, " `%s` |", option->file_key);
        fprintf (out, " %s | %s |\n", option->fallback ? option->fallback : "none",
                 option->help ? option->help : "");
    }
}

void
lot_options_unset_empty (char **value)
{
    if (*value && !**value) {
        free (*value);
        *value = NULL;
    }
}
