/* xlstm-forecast: quantile forecasts with a TiRex model (NX-AI's sLSTM
   time-series forecaster).
     build/xlstm-forecast -m MODEL -f SERIES_FILE -H HORIZON [options]
   SERIES_FILE holds one series per line, values separated by commas (nan or
   an empty field = missing). Prints CSV on stdout: series,step,mean,q...,
   one row per series and step. --stream instead reads values from stdin as
   they arrive and prints a forecast after every completed patch. */
#define XLSTM_MMAP
#define XLSTM_IMPLEMENTATION
#include "../xlstm.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define PROG "xlstm-forecast"

static void usage(FILE *f) {
    fprintf(f,
            "usage: " PROG " -m MODEL -f SERIES_FILE -H HORIZON [options]\n"
            "       " PROG " -m MODEL -H HORIZON --stream [options]\n"
            "  -m, --model PATH       TiRex model: model.ckpt, a directory holding one,\n"
            "                         or a converted .safetensors\n"
            "  -f, --file PATH        one series per line, values separated by commas;\n"
            "                         nan or an empty field = missing; - reads stdin\n"
            "  -H, --horizon N        steps to forecast (N >= 1)\n"
            "  -t, --threads N        threads (OpenMP builds; ignored otherwise)\n"
            "      --raw OUT          also write float32 [series x H x quantiles] to OUT\n"
            "      --plot FILE.svg    also draw history, median and quantile bands\n"
            "  -q, --quiet            no CSV on stdout\n"
            "      --fp32-recurrence  run the sLSTM recurrence in float32 (no bf16 rounding)\n"
            "      --stream           read values from stdin as they arrive (commas or\n"
            "                         whitespace between them) and print a forecast after\n"
            "                         every completed patch: observed,step,mean,q...\n"
            "  -h, --help             this message\n"
            "CSV on stdout: series,step,mean,q<level>... (series from 0, step from 1;\n"
            "mean is the median, as the reference reports it).\n");
}

/* Every error is one line on stderr; bad input exits 2, other failures 1. */
#define FAIL(code, ...) (fprintf(stderr, PROG ": " __VA_ARGS__), fputc('\n', stderr), (code))

/* Strict: the whole argument is a decimal integer. */
static int parse_long(const char *s, long *out) {
    char *end;
    if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+')) return 0;
    errno = 0;
    *out = strtol(s, &end, 10);
    return !*end && !errno;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }
static int lower(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

/* A field for an error message: printable ASCII, the rest as \xNN, cut
   short, so that the message stays one readable line. */
static const char *show(const char *s, size_t n, char *buf, size_t cap) {
    size_t i, k = 0;
    for (i = 0; i < n && k + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 32 && c < 127 && c != '\\') buf[k++] = (char)c;
        else k += (size_t)sprintf(buf + k, "\\x%02x", c);
    }
    if (i < n) buf[k++] = '.', buf[k++] = '.', buf[k++] = '.';
    buf[k] = 0;
    return buf;
}

enum { VAL_OK, VAL_NAN, VAL_NOT_NUMBER, VAL_NOT_FINITE, VAL_RANGE };

/* One trimmed, non-empty field s[0..n) (s[n] is writable). nan in any case,
   with an optional sign, is a missing value; anything else must parse whole
   as a finite number that fits a float. */
static int parse_value(char *s, size_t n, float *out) {
    const char *t = s + (s[0] == '+' || s[0] == '-');
    char save = s[n], *end;
    double v;
    if ((size_t)(s + n - t) == 3 && lower(t[0]) == 'n' && lower(t[1]) == 'a' && lower(t[2]) == 'n') {
        *out = NAN;
        return VAL_NAN;
    }
    s[n] = 0; /* a field ends at its comma, not at the end of the line */
    v = strtod(s, &end);
    s[n] = save;
    if (end != s + n || v != v) return VAL_NOT_NUMBER; /* partial parse, or nan(...) */
    if (!isfinite(v)) return VAL_NOT_FINITE;
    if (fabs(v) > FLT_MAX) return VAL_RANGE; /* converting it would be undefined */
    *out = (float)v;
    return VAL_OK;
}

static int value_error(const char *where, unsigned long line, unsigned long field, int code, const char *s,
                       size_t n) {
    char buf[128];
    const char *what = code == VAL_NOT_FINITE ? "not a finite number" : code == VAL_RANGE ? "outside the float range"
                                                                                          : "not a number";
    return FAIL(2, "%s:%lu: field %lu: %s: '%s'", where, line, field, what, show(s, n, buf, sizeof buf));
}

/* ---- growing buffers ------------------------------------------------------ */
typedef struct line_buf {
    char *s;
    size_t len, cap;
} line_buf;

/* One line, without its '\n', into lb (NUL-terminated; it may hold NULs).
   1: a line (the last one may lack '\n'); 0: end of input; -1: out of memory. */
static int read_line(FILE *f, line_buf *lb) {
    int c;
    lb->len = 0;
    for (;;) {
        c = getc(f);
        if (c == EOF && lb->len == 0) return 0;
        if (lb->len + 1 >= lb->cap) {
            size_t cap = lb->cap ? lb->cap * 2 : 256;
            char *ns = cap > lb->cap ? (char *)realloc(lb->s, cap) : NULL;
            if (!ns) return -1;
            lb->s = ns;
            lb->cap = cap;
        }
        if (c == EOF || c == '\n') break;
        lb->s[lb->len++] = (char)c;
    }
    lb->s[lb->len] = 0;
    return 1;
}

typedef struct float_buf {
    float *v;
    size_t n, cap;
} float_buf;

static int push(float_buf *b, float x) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        float *nv = cap < (size_t)-1 / sizeof(float) ? (float *)realloc(b->v, cap * sizeof(float)) : NULL;
        if (!nv) return 0;
        b->v = nv;
        b->cap = cap;
    }
    b->v[b->n++] = x;
    return 1;
}

/* ---- the series file ------------------------------------------------------- */
typedef struct series_set {
    float_buf values;     /* every series back to back */
    size_t *start, *len;  /* per series, into values */
    size_t n, cap;
} series_set;

static void series_free(series_set *ss) {
    free(ss->values.v);
    free(ss->start);
    free(ss->len);
}

/* 0 on success, else the exit code (the error is printed). */
static int read_series(const char *path, series_set *ss) {
    const char *name = strcmp(path, "-") ? path : "stdin";
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    line_buf lb = {0};
    unsigned long lineno = 0;
    int r, rc = 0;
    if (!f) return FAIL(2, "%s: %s", path, strerror(errno));
    while (!rc && (r = read_line(f, &lb)) == 1) {
        char *s = lb.s, *e = lb.s + lb.len;
        unsigned long field = 0;
        lineno++;
        /* a spreadsheet's UTF-8 byte order mark is not part of the first value */
        if (lineno == 1 && lb.len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) s += 3;
        while (s < e && is_space(*s)) s++;
        while (e > s && is_space(e[-1])) e--;
        if (s == e) {
            rc = FAIL(2, "%s:%lu: empty series", name, lineno);
            break;
        }
        if (ss->n == ss->cap) {
            size_t cap = ss->cap ? ss->cap * 2 : 64;
            size_t *ns = (size_t *)realloc(ss->start, cap * sizeof(size_t)), *nl;
            if (ns) ss->start = ns;
            nl = ns ? (size_t *)realloc(ss->len, cap * sizeof(size_t)) : NULL;
            if (!nl) {
                rc = FAIL(1, "out of memory reading %s", name);
                break;
            }
            ss->len = nl;
            ss->cap = cap;
        }
        ss->start[ss->n] = ss->values.n;
        for (;;) { /* fields up to each comma; the last one ends the line */
            char *a = s, *b = s, *z;
            float x = NAN;
            int code = VAL_NAN;
            while (b < e && *b != ',') b++;
            z = b;
            field++;
            while (a < z && is_space(*a)) a++;
            while (z > a && is_space(z[-1])) z--;
            if (a < z) code = parse_value(a, (size_t)(z - a), &x);
            if (code != VAL_OK && code != VAL_NAN) {
                rc = value_error(name, lineno, field, code, a, (size_t)(z - a));
                break;
            }
            if (!push(&ss->values, x)) {
                rc = FAIL(1, "out of memory reading %s", name);
                break;
            }
            if (b == e) break;
            s = b + 1;
        }
        ss->len[ss->n] = ss->values.n - ss->start[ss->n];
        ss->n++;
    }
    if (!rc && r < 0) rc = FAIL(1, "out of memory reading %s", name);
    if (!rc && ferror(f)) rc = FAIL(2, "%s: read error: %s", name, strerror(errno));
    if (!rc && ss->n == 0) rc = FAIL(2, "%s: empty file (no series)", name);
    free(lb.s);
    if (f != stdin) fclose(f);
    return rc;
}

/* ---- output ---------------------------------------------------------------- */
static void print_header(const char *first, const xlstm_config *cfg) {
    int32_t q;
    printf("%s,step,mean", first);
    for (q = 0; q < cfg->tirex.num_quantiles; q++) printf(",q%g", (double)cfg->tirex.quantiles[q]);
    printf("\n");
}

static void print_rows(unsigned long long label, int32_t H, int32_t Q, const float *quant, const float *median) {
    int32_t h, q;
    for (h = 0; h < H; h++) {
        printf("%llu,%ld,%.9g", label, (long)h + 1, (double)median[h]);
        for (q = 0; q < Q; q++) printf(",%.9g", (double)quant[(size_t)h * (size_t)Q + (size_t)q]);
        printf("\n");
    }
}

static int write_le_floats(FILE *f, const float *x, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        uint32_t u;
        unsigned char b[4];
        memcpy(&u, &x[i], 4);
        b[0] = (unsigned char)u, b[1] = (unsigned char)(u >> 8), b[2] = (unsigned char)(u >> 16), b[3] = (unsigned char)(u >> 24);
        if (fwrite(b, 1, 4, f) != 4) return 0;
    }
    return 1;
}

/* ---- the SVG plot ------------------------------------------------------------
   One panel per series, stacked: the recent history, the median forecast, the
   outer quantile band and, if the model has quantiles for one, an inner band. */
#define SVG_W 900
#define SVG_PANEL_H 250
#define SVG_TOP 30 /* the legend */

typedef struct bands {
    int32_t lo, hi;         /* the lowest and highest quantile level */
    int32_t in_lo, in_hi;   /* nearest 0.25 and 0.75, or -1 */
} bands;

static int32_t nearest_level(const xlstm_config *cfg, double want, double above, double below) {
    int32_t q, best = -1;
    double best_d = 0;
    for (q = 0; q < cfg->tirex.num_quantiles; q++) {
        double l = cfg->tirex.quantiles[q], d = fabs(l - want);
        if (l <= above || l >= below) continue;
        /* ties (0.2 and 0.3 around 0.25) go to the level nearer the median */
        if (best < 0 || d < best_d - 1e-6 || (d < best_d + 1e-6 && fabs(l - 0.5) < fabs(cfg->tirex.quantiles[best] - 0.5)))
            best = q, best_d = d;
    }
    return best;
}

static bands find_bands(const xlstm_config *cfg) {
    bands b;
    int32_t q;
    const float *l = cfg->tirex.quantiles;
    b.lo = b.hi = 0;
    for (q = 1; q < cfg->tirex.num_quantiles; q++) {
        if (l[q] < l[b.lo]) b.lo = q;
        if (l[q] > l[b.hi]) b.hi = q;
    }
    b.in_lo = nearest_level(cfg, 0.25, l[b.lo], 0.5);
    b.in_hi = nearest_level(cfg, 0.75, 0.5, l[b.hi]);
    if (b.in_lo < 0 || b.in_hi < 0) b.in_lo = b.in_hi = -1;
    return b;
}

static double nice_step(double span, double target) {
    double raw = span / target, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

typedef struct frame {
    double x0, x1, y0, y1; /* the plot area in pixels */
    double tmin, tmax, vmin, vmax;
} frame;

static double px(const frame *fr, double t) { return fr->x0 + (t - fr->tmin) / (fr->tmax - fr->tmin) * (fr->x1 - fr->x0); }
static double py(const frame *fr, double v) { return fr->y1 - (v - fr->vmin) / (fr->vmax - fr->vmin) * (fr->y1 - fr->y0); }

/* A line through v[i*stride] at t0 + i, broken where a value is missing; a
   lone point between gaps becomes a dot (a tiny circle drawn by the stroke). */
static void svg_line(FILE *f, const frame *fr, double t0, const float *v, size_t n, size_t stride, const char *style) {
    size_t i, run = 0;
    fprintf(f, "<path fill=\"none\" stroke-linejoin=\"round\" stroke-linecap=\"round\" %s d=\"", style);
    for (i = 0; i <= n; i++) {
        double x = i < n ? v[i * stride] : NAN;
        if (isfinite(x)) {
            fprintf(f, "%s%.1f %.1f", run ? "L" : "M", px(fr, t0 + (double)i), py(fr, x));
            run++;
        } else {
            if (run == 1) fprintf(f, "m-1 0a1 1 0 1 0 2 0a1 1 0 1 0 -2 0");
            run = 0;
        }
    }
    fprintf(f, "\"/>\n");
}

/* The band between quantiles lo and hi over the forecast steps. */
static void svg_band(FILE *f, const frame *fr, double t0, const float *quant, int32_t H, int32_t Q, int32_t lo,
                     int32_t hi, double opacity) {
    int32_t h;
    for (h = 0; h < H; h++)
        if (!isfinite(quant[(size_t)h * Q + lo]) || !isfinite(quant[(size_t)h * Q + hi])) return;
    fprintf(f, "<polygon fill=\"#1f5fa8\" fill-opacity=\"%g\" points=\"", opacity);
    if (H == 1) { /* one step: a small box rather than a line */
        double x = px(fr, t0);
        fprintf(f, "%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f", x - 3, py(fr, quant[hi]), x + 3, py(fr, quant[hi]), x + 3,
                py(fr, quant[lo]), x - 3, py(fr, quant[lo]));
    }
    for (h = 0; H > 1 && h < H; h++) fprintf(f, "%.1f,%.1f ", px(fr, t0 + h), py(fr, quant[(size_t)h * Q + hi]));
    for (h = H - 1; H > 1 && h >= 0; h--) fprintf(f, "%.1f,%.1f ", px(fr, t0 + h), py(fr, quant[(size_t)h * Q + lo]));
    fprintf(f, "\"/>\n");
}

static void svg_begin(FILE *f, size_t n_series, const xlstm_config *cfg, const bands *b) {
    const float *l = cfg->tirex.quantiles;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%lu\" viewBox=\"0 0 %d %lu\" "
            "font-family=\"sans-serif\" font-size=\"11\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
            SVG_W, (unsigned long)(SVG_TOP + n_series * SVG_PANEL_H), SVG_W, (unsigned long)(SVG_TOP + n_series * SVG_PANEL_H));
    fprintf(f,
            "<g transform=\"translate(64,16)\">"
            "<path d=\"M0 0h24\" stroke=\"#333\" stroke-width=\"1.2\"/><text x=\"30\" y=\"4\">history</text>"
            "<path d=\"M90 0h24\" stroke=\"#1f5fa8\" stroke-width=\"1.8\"/><text x=\"120\" y=\"4\">median forecast</text>"
            "<rect x=\"230\" y=\"-5\" width=\"24\" height=\"10\" fill=\"#1f5fa8\" fill-opacity=\"0.18\"/>"
            "<text x=\"260\" y=\"4\">q%g to q%g</text>",
            (double)l[b->lo], (double)l[b->hi]);
    if (b->in_lo >= 0)
        fprintf(f,
                "<rect x=\"350\" y=\"-5\" width=\"24\" height=\"10\" fill=\"#1f5fa8\" fill-opacity=\"0.4\"/>"
                "<text x=\"380\" y=\"4\">q%g to q%g</text>",
                (double)l[b->in_lo], (double)l[b->in_hi]);
    fprintf(f, "</g>\n");
}

static void svg_panel(FILE *f, size_t index, const float *x, size_t len, int32_t H, int32_t Q, const float *quant,
                      const float *median, const bands *b) {
    double top = SVG_TOP + (double)index * SVG_PANEL_H, lo = INFINITY, hi = -INFINITY, step, k;
    size_t want = (size_t)H > (size_t)-1 / 4 ? (size_t)-1 : 4 * (size_t)H, nh, i;
    frame fr;
    int ticks;
    if (want < 256) want = 256;
    nh = len < want ? len : want;
    for (i = len - nh; i < len; i++)
        if (isfinite(x[i])) lo = fmin(lo, x[i]), hi = fmax(hi, x[i]);
    for (i = 0; i < (size_t)H * (size_t)Q; i++)
        if (isfinite(quant[i])) lo = fmin(lo, quant[i]), hi = fmax(hi, quant[i]);
    if (lo > hi) lo = 0, hi = 1;                        /* nothing to show */
    if (lo == hi) lo -= fabs(lo) * 0.05 + 1e-3, hi += fabs(hi) * 0.05 + 1e-3; /* a constant */
    fr.x0 = 64, fr.x1 = SVG_W - 16, fr.y0 = top + 28, fr.y1 = top + SVG_PANEL_H - 30;
    /* half a step of room at both ends keeps the first and last points inside */
    fr.tmin = (double)(len - nh) - 0.5, fr.tmax = (double)len + H - 0.5;
    fr.vmin = lo - 0.05 * (hi - lo), fr.vmax = hi + 0.05 * (hi - lo);

    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"13\" font-weight=\"bold\">series %lu</text>", fr.x0,
            top + 20, (unsigned long)index);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"#555\">%lu value%s (last %lu shown), forecast %ld step%s</text>\n",
            fr.x0 + 80, top + 20, (unsigned long)len, len == 1 ? "" : "s", (unsigned long)nh, (long)H, H == 1 ? "" : "s");
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#999\"/>\n", fr.x0,
            fr.y0, fr.x1 - fr.x0, fr.y1 - fr.y0);
    /* ticks at 1, 2 or 5 times a power of ten, grid lines behind the data */
    step = nice_step(fr.vmax - fr.vmin, 5);
    for (k = ceil(fr.vmin / step), ticks = 0; k * step <= fr.vmax && ticks < 20; k++, ticks++)
        fprintf(f,
                "<path d=\"M%.0f %.1fH%.0f\" stroke=\"#eee\"/><text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" "
                "fill=\"#444\">%g</text>\n",
                fr.x0, py(&fr, k * step), fr.x1, fr.x0 - 5, py(&fr, k * step) + 4, k * step + 0.0); /* + 0.0: no "-0" */
    step = nice_step(fr.tmax - fr.tmin, 8);
    if (step < 1) step = 1;
    for (k = ceil(fr.tmin / step), ticks = 0; k * step <= fr.tmax && ticks < 20; k++, ticks++)
        fprintf(f,
                "<path d=\"M%.1f %.0fV%.0f\" stroke=\"#eee\"/><text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" "
                "fill=\"#444\">%.0f</text>\n",
                px(&fr, k * step), fr.y0, fr.y1, px(&fr, k * step), fr.y1 + 14, k * step + 0.0);
    if (nh)
        fprintf(f, "<path d=\"M%.1f %.0fV%.0f\" stroke=\"#aaa\" stroke-dasharray=\"4 3\"/>\n", px(&fr, len - 0.5), fr.y0,
                fr.y1);
    svg_band(f, &fr, (double)len, quant, H, Q, b->lo, b->hi, 0.18);
    if (b->in_lo >= 0) svg_band(f, &fr, (double)len, quant, H, Q, b->in_lo, b->in_hi, 0.3);
    svg_line(f, &fr, (double)(len - nh), x + (len - nh), nh, 1, "stroke=\"#333\" stroke-width=\"1.2\"");
    svg_line(f, &fr, (double)len, median, (size_t)H, 1, "stroke=\"#1f5fa8\" stroke-width=\"1.8\"");
}

/* ---- the two modes ----------------------------------------------------------- */
/* Forecast every series in batches (bounded memory), printing as it goes. */
static int run_file(xlstm_state *state, const xlstm_config *cfg, const series_set *ss, int32_t H, int quiet,
                    FILE *raw, FILE *plot) {
    size_t Q = (size_t)cfg->tirex.num_quantiles, per = (size_t)H * Q, batch, i, j;
    float *quant = NULL, *median = NULL;
    const float **ptr = NULL;
    bands b = find_bands(cfg);
    int rc = 0;
    if ((size_t)H > (size_t)-1 / sizeof(float) / (Q + 1)) return FAIL(1, "horizon %ld is too large", (long)H);
    batch = ((size_t)1 << 24) / (per + 1); /* about 64 MB of outputs at a time */
    if (batch > 64) batch = 64;
    if (batch < 1) batch = 1;
    if (batch > ss->n) batch = ss->n;
    quant = (float *)malloc(batch * per * sizeof(float));
    median = (float *)malloc(batch * (size_t)H * sizeof(float));
    ptr = (const float **)malloc(batch * sizeof *ptr);
    if (!quant || !median || !ptr) {
        rc = FAIL(1, "out of memory for %lu x %ld x %lu forecasts", (unsigned long)batch, (long)H, (unsigned long)Q);
        goto done;
    }
    if (!quiet) print_header("series", cfg);
    if (plot) svg_begin(plot, ss->n, cfg, &b);
    for (i = 0; i < ss->n; i += batch) {
        size_t nb = ss->n - i < batch ? ss->n - i : batch;
        xlstm_status s;
        for (j = 0; j < nb; j++) ptr[j] = ss->values.v + ss->start[i + j];
        s = xlstm_forecast(state, ptr, ss->len + i, nb, H, quant, median);
        if (s != XLSTM_OK) {
            rc = FAIL(1, "forecast of series %lu: %s", (unsigned long)i, xlstm_status_string(s));
            goto done;
        }
        for (j = 0; j < nb; j++) {
            if (!quiet) print_rows(i + j, H, (int32_t)Q, quant + j * per, median + j * (size_t)H);
            if (plot)
                svg_panel(plot, i + j, ptr[j], ss->len[i + j], H, (int32_t)Q, quant + j * per, median + j * (size_t)H, &b);
        }
        if (raw && !write_le_floats(raw, quant, nb * per)) {
            rc = FAIL(1, "writing the raw output: %s", strerror(errno));
            goto done;
        }
    }
    if (plot) fprintf(plot, "</svg>\n");
done:
    free(quant);
    free(median);
    free(ptr);
    return rc;
}

/* Values from stdin, a line at a time; a forecast at every patch boundary. */
static int run_stream(xlstm_state *state, const xlstm_config *cfg, int32_t H) {
    size_t Q = (size_t)cfg->tirex.num_quantiles, P = (size_t)cfg->tirex.patch_size, i;
    float *quant = NULL, *median = NULL;
    line_buf lb = {0};
    float_buf vals = {0};
    unsigned long lineno = 0;
    int r, rc = 0;
    if ((size_t)H > (size_t)-1 / sizeof(float) / (Q + 1)) return FAIL(1, "horizon %ld is too large", (long)H);
    quant = (float *)malloc((size_t)H * Q * sizeof(float));
    median = (float *)malloc((size_t)H * sizeof(float));
    if (!quant || !median || P == 0) {
        rc = FAIL(1, "out of memory for %ld x %lu forecasts", (long)H, (unsigned long)Q);
        goto done;
    }
    print_header("observed", cfg);
    fflush(stdout);
    while (!rc && (r = read_line(stdin, &lb)) == 1) {
        char *s = lb.s, *e = lb.s + lb.len;
        unsigned long field = 0;
        int commas = memchr(s, ',', lb.len) != NULL;
        lineno++;
        vals.n = 0;
        /* a line's values are parsed before any is fed: a bad line feeds nothing */
        for (;;) {
            char *b = s, *a, *z;
            while (b < e && *b != ',') b++;
            a = s, z = b;
            while (a < z && is_space(*a)) a++;
            while (z > a && is_space(z[-1])) z--;
            if (a == z && commas) { /* between two commas: missing, as in a series file */
                field++;
                if (!push(&vals, NAN)) rc = FAIL(1, "out of memory");
            }
            while (!rc && a < z) { /* whitespace separates values too */
                char *t = a;
                float x;
                int code;
                while (t < z && !is_space(*t)) t++;
                field++;
                code = parse_value(a, (size_t)(t - a), &x);
                if (code != VAL_OK && code != VAL_NAN) rc = value_error("stdin", lineno, field, code, a, (size_t)(t - a));
                else if (!push(&vals, x)) rc = FAIL(1, "out of memory");
                for (a = t; a < z && is_space(*a);) a++;
            }
            if (rc || b == e) break;
            s = b + 1;
        }
        /* feed up to each patch boundary, forecast there */
        for (i = 0; !rc && i < vals.n;) {
            uint64_t seen = xlstm_stream_length(state);
            size_t k = P - (size_t)(seen % P);
            xlstm_status st;
            if (k > vals.n - i) k = vals.n - i;
            if ((st = xlstm_stream_observe(state, vals.v + i, k)) != XLSTM_OK) {
                rc = FAIL(1, "stdin:%lu: %s", lineno, xlstm_status_string(st));
                break;
            }
            i += k;
            seen = xlstm_stream_length(state);
            if (seen % P) continue;
            if ((st = xlstm_stream_forecast(state, H, quant, median)) != XLSTM_OK) {
                rc = FAIL(1, "forecast after %llu values: %s", (unsigned long long)seen, xlstm_status_string(st));
                break;
            }
            print_rows((unsigned long long)seen, H, (int32_t)Q, quant, median);
            fflush(stdout);
        }
    }
    if (!rc && r < 0) rc = FAIL(1, "out of memory reading stdin");
    if (!rc && ferror(stdin)) rc = FAIL(2, "stdin: read error: %s", strerror(errno));
done:
    free(lb.s);
    free(vals.v);
    free(quant);
    free(median);
    return rc;
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *series_path = NULL, *raw_path = NULL, *plot_path = NULL;
    long horizon = 0, threads = 0;
    int have_horizon = 0, quiet = 0, stream = 0, i, rc = 0;
    xlstm_model_params params = xlstm_model_default_params();
    xlstm_model *model = NULL;
    xlstm_state *state = NULL;
    const xlstm_config *cfg;
    xlstm_error err;
    series_set ss;
    FILE *raw = NULL, *plot = NULL;

    memset(&ss, 0, sizeof ss);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "-f") || !strcmp(a, "--file") ||
                    !strcmp(a, "-H") || !strcmp(a, "--horizon") || !strcmp(a, "-t") || !strcmp(a, "--threads") ||
                    !strcmp(a, "--raw") || !strcmp(a, "--plot");
        if (takes && (!val || !*val)) return FAIL(2, "%s needs a value (see --help)", a);
        if (takes) i++;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            model_path = val;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            series_path = val;
        } else if (!strcmp(a, "-H") || !strcmp(a, "--horizon")) {
            if (!parse_long(val, &horizon) || horizon < 1 || horizon > INT32_MAX)
                return FAIL(2, "bad horizon for %s: '%s' (want a whole number >= 1)", a, val);
            have_horizon = 1;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!parse_long(val, &threads) || threads < 1 || threads > 1024)
                return FAIL(2, "bad thread count for %s: '%s' (want 1 to 1024)", a, val);
        } else if (!strcmp(a, "--raw")) {
            raw_path = val;
        } else if (!strcmp(a, "--plot")) {
            plot_path = val;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (!strcmp(a, "--fp32-recurrence")) {
            params.fp32_recurrence = 1;
        } else if (!strcmp(a, "--stream")) {
            stream = 1;
        } else {
            fprintf(stderr, PROG ": unknown argument: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!model_path) return FAIL(2, "no model given (-m MODEL; see --help)");
    if (!have_horizon) return FAIL(2, "no horizon given (-H HORIZON; see --help)");
    if (stream && series_path) return FAIL(2, "--stream reads stdin: give it no -f");
    if (stream && (raw_path || plot_path || quiet)) return FAIL(2, "--stream prints CSV only: no --raw, --plot or -q");
    if (!stream && !series_path) return FAIL(2, "no series file given (-f SERIES_FILE, - for stdin; see --help)");
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads((int)threads); /* states take omp_get_max_threads() */
#endif

    /* the series first: a typo in them should not wait for a large model to load */
    if (!stream && (rc = read_series(series_path, &ss)) != 0) goto done;
    if (xlstm_model_load(model_path, &params, &model, &err) != XLSTM_OK) {
        /* name the model unless the library's message already does */
        if (strstr(err.message, model_path)) rc = FAIL(2, "%s", err.message);
        else rc = FAIL(2, "%s: %s", model_path, err.message);
        goto done;
    }
    cfg = xlstm_model_config(model);
    if (cfg->arch != XLSTM_ARCH_TIREX) {
        rc = FAIL(2, "%s: not a TiRex model", model_path);
        goto done;
    }
    if (xlstm_state_create(model, &state, &err) != XLSTM_OK) {
        rc = FAIL(1, "%s", err.message);
        goto done;
    }
    if (stream) {
        rc = run_stream(state, cfg, (int32_t)horizon);
        goto done;
    }
    if (raw_path && !(raw = fopen(raw_path, "wb"))) {
        rc = FAIL(2, "%s: %s", raw_path, strerror(errno));
        goto done;
    }
    if (plot_path && !(plot = fopen(plot_path, "w"))) {
        rc = FAIL(2, "%s: %s", plot_path, strerror(errno));
        goto done;
    }
    rc = run_file(state, cfg, &ss, (int32_t)horizon, quiet, raw, plot);
done:
    if (raw && fclose(raw) != 0 && !rc) rc = FAIL(1, "%s: %s", raw_path, strerror(errno));
    if (plot && fclose(plot) != 0 && !rc) rc = FAIL(1, "%s: %s", plot_path, strerror(errno));
    if (fflush(stdout) != 0 && !rc) rc = FAIL(1, "writing stdout: %s", strerror(errno));
    series_free(&ss);
    xlstm_state_free(state);
    xlstm_model_free(model);
    return rc;
}
