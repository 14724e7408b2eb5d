/* batch.c — the per-epoch row order and gathering rows into a batch buffer. */
#include <string.h>

#include "nnx/rt/data.h"
#include "rt/team.h"

void nnx_epoch_order(int32_t *order, int32_t n, uint64_t seed, int32_t epoch)
{
    nnx_rng r;
    /* One generator per epoch, so epoch e's order needs no draws from epochs
     * before it (a resumed run sees the same order). */
    nnx_rng_seed(&r, seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(uint32_t)epoch,
                 NNX_STREAM_SHUFFLE);
    for (int32_t i = 0; i < n; i++)
        order[i] = i;
    nnx_rng_shuffle(&r, order, (size_t)n);
}

/* Row r of ds into o: copied, or normalised on the way when ds says so. */
static void read_row(const nnx_dataset *ds, int32_t r, float *o)
{
    size_t d = (size_t)ds->d;
    const float *x = ds->x + (size_t)r * d;
    if (!ds->norm_shift) {
        memcpy(o, x, d * sizeof *o);
        return;
    }
    const float *shift = ds->norm_shift, *scale = ds->norm_scale;
    for (size_t j = 0; j < d; j++)
        o[j] = (x[j] - shift[j]) * scale[j];
}

/* The targets of rows[0..m): labels into y_out, real targets into t_out
 * (either may be NULL, and ds may have neither). */
static void gather_targets(const nnx_dataset *ds, const int32_t *rows, int32_t m,
                           int32_t *y_out, float *t_out)
{
    for (int32_t i = 0; i < m; i++) {
        if (y_out && ds->y)
            y_out[i] = ds->y[rows[i]];
        if (t_out && ds->t)
            t_out[i] = ds->t[rows[i]];
    }
}

void nnx_gather(const nnx_dataset *ds, const int32_t *rows, int32_t m,
                float *x_out, int32_t *y_out, float *t_out)
{
    size_t d = (size_t)ds->d;
    for (int32_t i = 0; i < m; i++)
        read_row(ds, rows[i], x_out + (size_t)i * d);
    gather_targets(ds, rows, m, y_out, t_out);
}

#define GATHER_UNIT_FLOATS 16384    /* a unit of nnx_gather_on: about 64 KB of rows */

typedef struct gather_job {
    const nnx_dataset *ds;
    const int32_t *rows;
    int32_t m;
    float *x;
    int32_t *y;
    float *t;
    int units;
} gather_job;

static void gather_unit(void *p, int u, int tid)
{
    (void)tid;
    const gather_job *j = p;
    long lo, hi;
    nnx_team_split(j->m, j->units, u, &lo, &hi);
    size_t d = (size_t)j->ds->d;
    nnx_gather(j->ds, j->rows + lo, (int32_t)(hi - lo), j->x + (size_t)lo * d,
               j->y ? j->y + lo : NULL, j->t ? j->t + lo : NULL);
}

void nnx_gather_on(const nnx_dataset *ds, const int32_t *rows, int32_t m,
                   float *x_out, int32_t *y_out, float *t_out, struct nnx_team *team)
{
    size_t floats = (size_t)m * (size_t)ds->d, units = floats / GATHER_UNIT_FLOATS;
    gather_job j = {
        .ds = ds, .rows = rows, .m = m, .x = x_out, .y = y_out, .t = t_out,
        .units = units < 1 ? 1 : units > (size_t)m ? (int)m : units > 16 ? 16 : (int)units,
    };
    nnx_team_run(team, j.units, gather_unit, &j);
}

#define AHEAD_UNIT_FLOATS 1024     /* a unit of nnx_gather_start: a row, or rows of 4 KB */

static void ahead_unit(void *p, int u, int tid)
{
    (void)tid;
    const nnx_gather_ahead *g = p;
    int32_t lo = u * g->unit_rows, hi = lo + g->unit_rows < g->m ? lo + g->unit_rows : g->m;
    size_t d = (size_t)g->ds->d;
    for (int32_t i = lo; i < hi; i++)
        read_row(g->ds, g->rows[i], g->x + (size_t)i * d);
}

void nnx_gather_start(nnx_gather_ahead *g, const nnx_dataset *ds, const int32_t *rows,
                      int32_t m, float *x_out, int32_t *y_out, float *t_out,
                      struct nnx_team *team)
{
    int32_t per = ds->d >= AHEAD_UNIT_FLOATS ? 1 : AHEAD_UNIT_FLOATS / ds->d;
    *g = (nnx_gather_ahead){
        .ds = ds, .rows = rows, .m = m, .unit_rows = per, .x = x_out, .y = y_out, .t = t_out,
        .team = team,
    };
    nnx_team_background(team, (m + per - 1) / per, ahead_unit, g);
}

void nnx_gather_finish(nnx_gather_ahead *g)
{
    nnx_team_background_wait(g->team);
    gather_targets(g->ds, g->rows, g->m, g->y, g->t);
}

void nnx_gather_range(const nnx_dataset *ds, int32_t first, int32_t m, float *x_out)
{
    for (int32_t i = 0; i < m; i++)
        read_row(ds, first + i, x_out + (size_t)i * (size_t)ds->d);
}
