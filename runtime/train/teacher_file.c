/* teacher_file.c: top-k teacher files (format in teacher_file.h): the writer behind
 * `srlm teacher` (the teacher's logits per sample through the inference engine, top K and the
 * log-sum-exp on the host) and the reader that fills the distillation inputs per batch. Not
 * the KL (kd.c). */
#include "train/teacher_file.h"
#include "model/mapfile.h"
#include "train/dataset.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct topk_header {
    char magic[8];
    uint32_t version, K, V, seq;
    float tau;
    uint32_t reserved;
    uint64_t n_train, n_eval, count, data_hash;
} topk_header;
_Static_assert(sizeof(topk_header) == 64, "top-k file header");

struct srlm_teacher_file {
    srlm_mapfile mf;
    topk_header h;
    uint64_t *start;  /* (n_train + n_eval + 1) first record of each sample */
    uint32_t *len;    /* tokens of each sample */
    int32_t *hid;     /* (N,K) host staging */
    float *hlp;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

uint64_t srlm_teacher_data_hash(const srlm_dataset *ds) {
    uint64_t h = 1469598103934665603ull;
    for (int sp = 0; sp < 2; sp++)
        for (size_t i = 0; i < srlm_dataset_count(ds, sp); i++) {
            srlm_sample s = srlm_dataset_sample(ds, sp, i);
            int32_t n = s.n;
            h = fnv(h, &n, 4);
            h = fnv(h, s.ids, (size_t)s.n * 4);
            h = fnv(h, s.loss, (size_t)s.n);
        }
    return h;
}

static size_t rec_bytes(uint32_t K) { return (size_t)K * 8 + 4; }

/* ---- reader ------------------------------------------------------------------------------ */

srlm_status srlm_teacher_file_open(const char *path, const srlm_dataset *ds, const srlm_data_options *d, int V, float tau,
                                   srlm_teacher_file **out) {
    *out = NULL;
    srlm_teacher_file *tf = calloc(1, sizeof *tf);
    if (!tf) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    srlm_status st = srlm_mapfile_open(path, &tf->mf);
    topk_header *h = &tf->h;
    if (!st && tf->mf.size < sizeof *h) st = srlm_errorf(SRLM_ERR_FORMAT, "%s: too short for a top-k teacher file", path);
    if (!st) {
        memcpy(h, tf->mf.data, sizeof *h);
        if (memcmp(h->magic, SRLM_TOPK_MAGIC, 8))
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: not a top-k teacher file (bad magic; made by `srlm teacher --topk`?)", path);
        else if (h->version != SRLM_TOPK_VERSION)
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: top-k file version %u, this build reads %u", path, h->version, SRLM_TOPK_VERSION);
        else if (h->K < 1 || h->K > h->V || h->reserved)
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: bad header (K %u, V %u)", path, h->K, h->V);
        else if (h->count > (UINT64_MAX - sizeof *h) / rec_bytes(h->K) || tf->mf.size != sizeof *h + h->count * rec_bytes(h->K))
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: %zu bytes, the header's %llu positions of K = %u need %llu", path, tf->mf.size,
                             (unsigned long long)h->count, h->K,
                             (unsigned long long)(sizeof *h + h->count * rec_bytes(h->K)));
    }
    /* the settings the positions depend on */
    if (!st && (int)h->V != V)
        st = srlm_errorf(SRLM_ERR_INVALID, "%s was made by a teacher of %u embedding rows; the student has %d: distillation "
                         "needs the same vocabulary", path, h->V, V);
    if (!st && (int)h->seq != d->seq_len)
        st = srlm_errorf(SRLM_ERR_INVALID, "%s was made with --seq %u; this run has --seq %d (samples are truncated "
                         "differently): remake it with the same settings", path, h->seq, d->seq_len);
    if (!st && h->tau != tau)
        st = srlm_errorf(SRLM_ERR_INVALID, "%s holds log-probabilities at temperature %g; this run has --kd-temp %g", path,
                         (double)h->tau, (double)tau);
    size_t nt = st ? 0 : srlm_dataset_count(ds, SRLM_SPLIT_TRAIN), ne = st ? 0 : srlm_dataset_count(ds, SRLM_SPLIT_EVAL);
    if (!st && (h->n_train != nt || h->n_eval != ne))
        st = srlm_errorf(SRLM_ERR_INVALID, "%s holds %llu train and %llu eval samples; this run's data has %zu and %zu "
                         "(another data file, --eval-fraction, --eval-data or --seed?)", path,
                         (unsigned long long)h->n_train, (unsigned long long)h->n_eval, nt, ne);
    if (!st && h->data_hash != srlm_teacher_data_hash(ds))
        st = srlm_errorf(SRLM_ERR_INVALID, "%s was made from other samples than this run's (data hash differs: another data "
                         "file, tokenizer, --seed split or --seq?)", path);
    size_t ns = nt + ne;
    if (!st) {
        tf->start = malloc((ns + 1) * sizeof *tf->start);
        tf->len = malloc((ns ? ns : 1) * sizeof *tf->len);
        if (!tf->start || !tf->len) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    }
    uint64_t pos = 0;
    for (size_t i = 0; !st && i < ns; i++) {
        srlm_sample s = srlm_dataset_sample(ds, i < nt ? SRLM_SPLIT_TRAIN : SRLM_SPLIT_EVAL, i < nt ? i : i - nt);
        tf->start[i] = pos;
        tf->len[i] = (uint32_t)s.n;
        pos += (uint64_t)s.n;
    }
    if (!st) tf->start[ns] = pos;
    if (!st && pos != h->count)
        st = srlm_errorf(SRLM_ERR_INVALID, "%s holds %llu positions; this run's samples have %llu", path,
                         (unsigned long long)h->count, (unsigned long long)pos);
    if (st) {
        srlm_teacher_file_close(tf);
        return st;
    }
    *out = tf;
    return NULL;
}

void srlm_teacher_file_close(srlm_teacher_file *tf) {
    if (!tf) return;
    srlm_mapfile_close(&tf->mf);
    free(tf->start);
    free(tf->len);
    free(tf->hid);
    free(tf->hlp);
    free(tf);
}

int srlm_teacher_file_k(const srlm_teacher_file *tf) { return (int)tf->h.K; }

srlm_status srlm_teacher_file_upload(srlm_teacher_file *tf, srlm_kd *kd, const srlm_batch *b) {
    const srlm_train_model *tm = kd->tm;
    size_t K = tf->h.K, N = (size_t)tm->N, ns = (size_t)(tf->h.n_train + tf->h.n_eval);
    if (!tf->hid) {
        tf->hid = malloc(N * K * 4);
        tf->hlp = malloc(N * K * 4);
        if (!tf->hid || !tf->hlp) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    }
    float inv = 1.0f / tf->h.tau;
    for (int r = 0; r < tm->B; r++)
        for (int t = 0; t < tm->T; t++) {
            size_t i = (size_t)r * (size_t)tm->T + (size_t)t, j = (size_t)r * (size_t)b->T + (size_t)t;
            int32_t *ids = tf->hid + i * K;
            float *lp = tf->hlp + i * K;
            ids[0] = -1;
            if (r >= b->rows || t >= b->T || !b->sample || b->sample[j] < 0) continue;
            size_t s = (size_t)b->sample[j];
            int32_t p = b->pos[j];
            if (s >= ns || p < 0 || (uint32_t)p >= tf->len[s])
                return srlm_errorf(SRLM_ERR_INVALID, "%s: no entry for sample %zu position %d", tf->mf.path, s, p);
            const uint8_t *rec = tf->mf.data + sizeof(topk_header) + (tf->start[s] + (uint64_t)p) * rec_bytes(tf->h.K);
            float lse;
            memcpy(ids, rec, K * 4);
            memcpy(lp, rec + K * 4, K * 4);
            memcpy(&lse, rec + K * 8, 4);
            for (size_t k = 0; k < K; k++) {
                if (ids[k] < 0 || ids[k] >= (int32_t)tf->h.V)
                    return srlm_errorf(SRLM_ERR_FORMAT, "%s: token id %d outside the vocabulary at sample %zu position %d",
                                       tf->mf.path, ids[k], s, p);
                lp[k] = lp[k] * inv - lse;
            }
        }
    SRLM_TRY(srlm_buf_write(tm->ctx, kd->tids, 0, tf->hid, N * K * 4));
    return srlm_buf_write(tm->ctx, kd->tlogp, 0, tf->hlp, N * K * 4);
}

/* ---- writer ------------------------------------------------------------------------------ */

void srlm_teacher_options_default(srlm_teacher_options *o) {
    memset(o, 0, sizeof *o);
    o->seq = 512;
    o->topk = 64;
    o->temp = 1.0f;
    o->seed = 1234;
}

static srlm_status io_err(const char *path) { return srlm_errorf(SRLM_ERR_IO, "cannot write %s: %s", path, strerror(errno)); }

/* The K largest of x (V), larger first, ties to the smaller id, NaN as -inf. */
static void row_topk(int *ids, float *vals, const float *x, int V, int K) {
    int n = 0;
    for (int v = 0; v < V; v++) {
        float y = x[v] != x[v] ? -INFINITY : x[v];
        if (n == K && !(y > vals[K - 1])) continue;
        int j = n < K ? n++ : K - 1;
        while (j > 0 && y > vals[j - 1]) {
            vals[j] = vals[j - 1];
            ids[j] = ids[j - 1];
            j--;
        }
        vals[j] = y;
        ids[j] = v;
    }
}

/* One sample's records: the teacher's logits for every position, the top K and the lse. */
static srlm_status write_sample(srlm_engine *e, FILE *f, const char *tmp, srlm_sample s, int V, int K, double tau, float *logits,
                                int *ids, float *vals) {
    int seq;
    SRLM_TRY(srlm_engine_seq_new(e, &seq));
    srlm_status st = srlm_engine_step(e, 1, &seq, &s.n, s.ids, 1, logits);
    srlm_engine_seq_free(e, seq);
    SRLM_TRY(st);
    for (int p = 0; p < s.n; p++) row_topk(ids + (size_t)p * K, vals + (size_t)p * K, logits + (size_t)p * V, V, K);
    for (int p = 0; p < s.n; p++) {
        const float *x = logits + (size_t)p * (size_t)V;
        float mx = -INFINITY;
        for (int v = 0; v < V; v++) mx = x[v] > mx ? x[v] : mx;
        double sum = 0;
        for (int v = 0; v < V; v++) sum += exp(((double)x[v] - mx) / tau);
        float lse = (float)(mx / tau + log(sum));
        if (fwrite(ids + (size_t)p * K, 4, (size_t)K, f) != (size_t)K || fwrite(vals + (size_t)p * K, 4, (size_t)K, f) != (size_t)K ||
            fwrite(&lse, 4, 1, f) != 1)
            return io_err(tmp);
    }
    return NULL;
}

srlm_status srlm_teacher_topk_write(srlm_ctx *ctx, const srlm_teacher_options *o, FILE *log) {
    if (!o->model_dir || !o->data || !o->out) return srlm_errorf(SRLM_ERR_INVALID, "teacher: --model, --data and --out are required");
    if (!(o->temp > 0.0f)) return srlm_errorf(SRLM_ERR_INVALID, "teacher: temperature %g is not positive", (double)o->temp);
    srlm_tokenizer *tok = NULL;
    srlm_dataset *ds = NULL;
    srlm_model *m = NULL;
    srlm_engine *e = NULL;
    FILE *f = NULL;
    float *logits = NULL, *vals = NULL;
    int *ids = NULL;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", o->out);
    srlm_data_options d;
    srlm_data_options_default(&d);
    d.seq_len = o->seq;
    d.seed = o->seed;
    d.eval_fraction = o->eval_fraction;
    d.eval_path = o->eval_data;
    srlm_status st = srlm_tokenizer_create(o->model_dir, &tok);
    if (!st) st = srlm_model_load(ctx, o->model_dir, SRLM_DTYPE_F16, &m);
    int V = st ? 0 : srlm_model_vocab_size(m);
    if (!st && (o->topk < 1 || o->topk > V))
        st = srlm_errorf(SRLM_ERR_INVALID, "teacher: --topk %d for a vocabulary of %d", o->topk, V);
    if (!st) {
        d.vocab_rows = V;
        st = srlm_dataset_open(tok, o->data, &d, &ds);
    }
    if (!st) {
        srlm_engine_options eo;
        srlm_engine_options_default(&eo);
        eo.max_seqs = 1;
        eo.max_ctx = o->seq;
        eo.max_out = o->seq;
        st = srlm_engine_create(m, &eo, &e);
    }
    size_t nt = st ? 0 : srlm_dataset_count(ds, SRLM_SPLIT_TRAIN), ne = st ? 0 : srlm_dataset_count(ds, SRLM_SPLIT_EVAL);
    if (!st) {
        logits = malloc((size_t)o->seq * (size_t)V * 4);
        vals = malloc((size_t)o->seq * (size_t)o->topk * 4);
        ids = malloc((size_t)o->seq * (size_t)o->topk * 4);
        if (!logits || !vals || !ids) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    }
    topk_header h = {.version = SRLM_TOPK_VERSION, .K = (uint32_t)o->topk, .V = (uint32_t)V, .seq = (uint32_t)o->seq,
                     .tau = o->temp, .n_train = nt, .n_eval = ne};
    memcpy(h.magic, SRLM_TOPK_MAGIC, 8);
    if (!st) {
        h.data_hash = srlm_teacher_data_hash(ds);
        f = fopen(tmp, "wb");
        if (!f || fwrite(&h, sizeof h, 1, f) != 1) st = io_err(tmp);
    }
    for (size_t i = 0; !st && i < nt + ne; i++) {
        srlm_sample s = srlm_dataset_sample(ds, i < nt ? SRLM_SPLIT_TRAIN : SRLM_SPLIT_EVAL, i < nt ? i : i - nt);
        st = write_sample(e, f, tmp, s, V, o->topk, (double)o->temp, logits, ids, vals);
        h.count += (uint64_t)s.n;
    }
    /* the final header, then fsync and an atomic rename */
    if (!st && (fseek(f, 0, SEEK_SET) || fwrite(&h, sizeof h, 1, f) != 1 || fflush(f) || fsync(fileno(f)))) st = io_err(tmp);
    if (f && fclose(f) && !st) st = io_err(tmp);
    if (!st && rename(tmp, o->out)) st = srlm_errorf(SRLM_ERR_IO, "cannot rename %s to %s: %s", tmp, o->out, strerror(errno));
    if (!st) { /* the rename itself reaches the disk with the directory */
        char dir[4200];
        snprintf(dir, sizeof dir, "%s", o->out);
        char *sl = strrchr(dir, '/');
        if (sl) *sl = 0;
        else snprintf(dir, sizeof dir, ".");
        int fd = open(dir, O_RDONLY);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
        }
    }
    if (st && f) unlink(tmp);
    if (!st && log)
        fprintf(log, "wrote %s: top %d of %d tokens at %llu positions (%zu train + %zu eval samples, seq %d, temperature %g)\n",
                o->out, o->topk, V, (unsigned long long)h.count, nt, ne, o->seq, (double)o->temp);
    free(logits), free(vals), free(ids);
    srlm_engine_destroy(e);
    srlm_dataset_destroy(ds);
    srlm_model_destroy(m);
    srlm_tokenizer_destroy(tok);
    return st;
}
