/* trainer.c: the training loop behind `srlm train sft|pretrain`: batches from the dataset
 * (with MEAP when asked), gradient accumulation, learning-rate schedule, clipping and AdamW on
 * the device, metrics in the run database, evaluation, atomic checkpoints and bit-exact
 * resume. Not the math (train_model.c) nor the data pipeline (dataset.c). */
#include "train/train_model.h"
#include "train/kd.h"
#include "train/teacher_file.h"
#include "model/atomic.h"
#include "model/init.h"
#include "model/safetensors.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void srlm_train_options_default(srlm_train_options *o) {
    memset(o, 0, sizeof *o);
    o->mode = "sft";
    o->seq = 512;
    o->batch = 1;
    o->accum = 1;
    o->epochs = 1;
    o->lr = 4e-5f;
    o->schedule = "cosine";
    o->warmup = 0;
    o->min_lr_ratio = 0.1f;
    o->beta1 = 0.9f, o->beta2 = 0.999f, o->eps = 1e-8f, o->weight_decay = 0.0f;
    o->max_grad_norm = 1.0f;
    o->seed = 1234;
    o->save_every = 0;
    o->eval_every = 0;
    o->save_dtype = SRLM_DTYPE_F32;
    o->meap_layout = "separate";
    o->mask_id = -1;
    o->recompute = 1;
    o->kd_alpha = 0.5f;
    o->kd_temp = 1.0f;
}

/* Learning rate at optimizer step t (1-based) of total. */
static float lr_at(const srlm_train_options *o, long t, long total) {
    if (o->warmup > 0 && t <= o->warmup) return o->lr * (float)t / (float)o->warmup;
    if (!strcmp(o->schedule, "constant") || total <= o->warmup) return o->lr;
    double frac = (double)(t - o->warmup) / (double)(total - o->warmup);
    if (frac > 1) frac = 1;
    double lo = o->lr * o->min_lr_ratio;
    if (!strcmp(o->schedule, "linear")) return (float)(o->lr - (o->lr - lo) * frac);
    return (float)(lo + 0.5 * (o->lr - lo) * (1 + cos(M_PI * frac)));
}

static srlm_status mkdir_p(const char *path) {
    if (mkdir(path, 0755) && errno != EEXIST) return srlm_errorf(SRLM_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    return NULL;
}

static srlm_status fsync_path(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return srlm_errorf(SRLM_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    int r = fsync(fd);
    close(fd);
    return r ? srlm_errorf(SRLM_ERR_IO, "fsync %s: %s", path, strerror(errno)) : NULL;
}

static void rm_rf(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            struct stat st;
            if (!lstat(p, &st) && S_ISDIR(st.st_mode)) rm_rf(p);
            else unlink(p);
        }
        closedir(d);
    }
    rmdir(path);
}

static srlm_status save_moments(srlm_model *m, const char *path) { return srlm_model_save_safetensors(m, path, SRLM_DTYPE_F32); }

static srlm_status load_moments(srlm_model *m, const char *path) {
    srlm_safetensors *f;
    SRLM_TRY(srlm_safetensors_open(path, &f));
    srlm_status st = NULL;
    for (size_t i = 0; !st && i < srlm_model_tensor_count(&m->cfg); i++) {
        srlm_tensor_spec t;
        srlm_model_tensor_spec(&m->cfg, i, &t);
        const srlm_st_tensor *x = srlm_safetensors_find(f, t.name);
        srlm_buf *b = srlm_model_tensor(m, i);
        if (!x || x->dtype != SRLM_DTYPE_F32 || x->nbytes != b->size)
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: optimizer tensor %s missing or of the wrong size", path, t.name);
        else st = srlm_buf_write(m->ctx, *b, 0, x->data, b->size);
    }
    srlm_safetensors_destroy(f);
    return st;
}

/* Writes OUT/step-N atomically: everything goes to OUT/step-N.tmp, is fsynced, then renamed;
 * OUT/latest is replaced atomically last. A crash at any point leaves the previous
 * checkpoint and `latest` intact. */
static srlm_status save_checkpoint(srlm_train_model *tm, const srlm_train_options *o, long step, srlm_data_cursor cur,
                                   const char *config_json, char *out_dir, size_t out_len) {
    char tmp[2048], fin[2048], p[4096], opt[2560];
    snprintf(fin, sizeof fin, "%s/step-%ld", o->out, step);
    snprintf(tmp, sizeof tmp, "%s/step-%ld.tmp", o->out, step);
    rm_rf(tmp);
    SRLM_TRY(mkdir_p(tmp));
    snprintf(opt, sizeof opt, "%s/optimizer", tmp);
    SRLM_TRY(mkdir_p(opt));
    srlm_model_config cfg = tm->cfg;
    cfg.torch_dtype = o->save_dtype;
    snprintf(p, sizeof p, "%s/config.json", tmp);
    SRLM_TRY(srlm_model_config_write(&cfg, p));
    snprintf(p, sizeof p, "%s/model.safetensors", tmp);
    SRLM_TRY(srlm_model_save_safetensors(tm->w, p, o->save_dtype));
    SRLM_TRY(srlm_copy_tokenizer(o->model_dir, tmp, cfg.vocab_size));
    /* optimizer state: fp32 master weights (an HF folder, so resume loads it as a model) and
     * both moments */
    cfg.torch_dtype = SRLM_DTYPE_F32;
    snprintf(p, sizeof p, "%s/config.json", opt);
    SRLM_TRY(srlm_model_config_write(&cfg, p));
    snprintf(p, sizeof p, "%s/model.safetensors", opt);
    SRLM_TRY(srlm_model_save_safetensors(tm->w, p, SRLM_DTYPE_F32));
    snprintf(p, sizeof p, "%s/adam_m.safetensors", opt);
    SRLM_TRY(save_moments(tm->m1, p));
    snprintf(p, sizeof p, "%s/adam_v.safetensors", opt);
    SRLM_TRY(save_moments(tm->m2, p));
    char state[8192];
    int n = snprintf(state, sizeof state,
                     "{\"format\": \"srlm-checkpoint\", \"version\": 1, \"step\": %ld, \"seed\": %llu, "
                     "\"data_cursor\": {\"epoch\": %llu, \"index\": %llu, \"part\": %llu}, \"config\": %s}\n",
                     step, (unsigned long long)o->seed, (unsigned long long)cur.epoch, (unsigned long long)cur.index,
                     (unsigned long long)cur.part, config_json ? config_json : "{}");
    snprintf(p, sizeof p, "%s/state.json", tmp);
    SRLM_TRY(srlm_write_file_atomic(p, state, (size_t)n));
    SRLM_TRY(fsync_path(opt));
    SRLM_TRY(fsync_path(tmp));
    rm_rf(fin);
    if (rename(tmp, fin)) return srlm_errorf(SRLM_ERR_IO, "cannot rename %s to %s: %s", tmp, fin, strerror(errno));
    SRLM_TRY(fsync_path(o->out));
    char latest[4096], name[64];
    snprintf(latest, sizeof latest, "%s/latest", o->out);
    int k = snprintf(name, sizeof name, "step-%ld\n", step);
    SRLM_TRY(srlm_write_file_atomic(latest, name, (size_t)k));
    snprintf(out_dir, out_len, "%s", fin);
    return NULL;
}

/* Reads DIR/latest (or takes DIR itself when it is a step folder). */
static srlm_status resolve_resume(const char *dir, char *out, size_t n) {
    char p[4096];
    snprintf(p, sizeof p, "%s/state.json", dir);
    if (!access(p, R_OK)) {
        snprintf(out, n, "%s", dir);
        return NULL;
    }
    snprintf(p, sizeof p, "%s/latest", dir);
    FILE *f = fopen(p, "r");
    if (!f) return srlm_errorf(SRLM_ERR_NOT_FOUND, "--resume %s: no state.json and no latest file", dir);
    char name[256] = {0};
    if (!fgets(name, sizeof name, f)) name[0] = 0;
    fclose(f);
    name[strcspn(name, "\n")] = 0;
    if (!name[0] || strchr(name, '/')) return srlm_errorf(SRLM_ERR_FORMAT, "%s: not a checkpoint name", p);
    snprintf(out, n, "%s/%s", dir, name);
    return NULL;
}

static srlm_status read_state(const char *step_dir, long *step, srlm_data_cursor *cur) {
    char p[4200];
    snprintf(p, sizeof p, "%s/state.json", step_dir);
    FILE *f = fopen(p, "rb");
    if (!f) return srlm_errorf(SRLM_ERR_IO, "cannot read %s", p);
    char buf[65536];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    cJSON *j = cJSON_Parse(buf);
    cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "step"), *c = cJSON_GetObjectItemCaseSensitive(j, "data_cursor");
    srlm_status st = NULL;
    if (!cJSON_IsNumber(s) || !cJSON_IsObject(c)) st = srlm_errorf(SRLM_ERR_FORMAT, "%s: missing step or data_cursor", p);
    else {
        *step = (long)s->valuedouble;
        cJSON *e = cJSON_GetObjectItemCaseSensitive(c, "epoch"), *i = cJSON_GetObjectItemCaseSensitive(c, "index"),
              *pt = cJSON_GetObjectItemCaseSensitive(c, "part");
        cur->epoch = cJSON_IsNumber(e) ? (uint64_t)e->valuedouble : 0;
        cur->index = cJSON_IsNumber(i) ? (uint64_t)i->valuedouble : 0;
        cur->part = cJSON_IsNumber(pt) ? (uint64_t)pt->valuedouble : 0;
    }
    cJSON_Delete(j);
    return st;
}

/* Copies a dataset batch (B_b x T_b) into the model's fixed (B x T) inputs, padding with
 * weight 0 and segment -1; weights are multiplied by `scale` (1 / loss tokens of the step). */
static srlm_status upload_batch(srlm_train_model *tm, const srlm_batch *b, float scale, int32_t *hi, int32_t *ht, float *hw,
                                int32_t *hp, int32_t *hs) {
    int B = tm->B, T = tm->T;
    for (int r = 0; r < B; r++)
        for (int t = 0; t < T; t++) {
            size_t i = (size_t)r * (size_t)T + (size_t)t;
            bool in = r < b->rows && t < b->T;
            size_t j = (size_t)r * (size_t)b->T + (size_t)t;
            hi[i] = in ? b->ids[j] : 0;
            ht[i] = in ? b->targets[j] : -100;
            hw[i] = in ? b->weights[j] * scale : 0.0f;
            hp[i] = in ? b->pos[j] : t;
            hs[i] = in ? b->seg[j] : -1;
        }
    uint64_t n = (uint64_t)B * (uint64_t)T * 4;
    SRLM_TRY(srlm_buf_write(tm->ctx, tm->ids, 0, hi, n));
    SRLM_TRY(srlm_buf_write(tm->ctx, tm->targets, 0, ht, n));
    SRLM_TRY(srlm_buf_write(tm->ctx, tm->weights, 0, hw, n));
    SRLM_TRY(srlm_buf_write(tm->ctx, tm->pos, 0, hp, n));
    return srlm_buf_write(tm->ctx, tm->seg, 0, hs, n);
}

static srlm_status read_loss(srlm_train_model *tm, float *tmp, double *sum) {
    SRLM_TRY(srlm_buf_read(tm->ctx, tm->loss, 0, tmp, (uint64_t)tm->N * 4));
    double s = 0;
    for (int i = 0; i < tm->N; i++) s += tmp[i];
    *sum = s;
    return NULL;
}

srlm_status srlm_train_run(srlm_ctx *ctx, const srlm_train_options *o, FILE *log) {
    if (!o->model_dir || !o->data || !o->out) return srlm_errorf(SRLM_ERR_INVALID, "train: --model, --data and --out are required");
    bool pretrain = !strcmp(o->mode, "pretrain"), kd_mode = !strcmp(o->mode, "kd");
    if (!pretrain && !kd_mode && strcmp(o->mode, "sft"))
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "train %s: this build trains sft, kd and pretrain", o->mode);
    if (kd_mode && !o->teacher == !o->teacher_logits)
        return srlm_errorf(SRLM_ERR_INVALID, "train kd: give either --teacher DIR or --teacher-logits FILE");
    SRLM_TRY(mkdir_p(o->out));
    char resume_dir[4096] = {0};
    long start_step = 0;
    srlm_data_cursor cur = {0};
    if (o->resume) {
        SRLM_TRY(resolve_resume(o->resume, resume_dir, sizeof resume_dir));
        SRLM_TRY(read_state(resume_dir, &start_step, &cur));
    }
    const char *init = o->init_from ? o->init_from : o->model_dir;
    char master[4200];
    if (resume_dir[0]) {
        snprintf(master, sizeof master, "%s/optimizer", resume_dir);
        init = master;
    }
    srlm_tokenizer *tok = NULL;
    srlm_dataset *ds = NULL;
    srlm_train_model *tm = NULL;
    srlm_kd *kd = NULL;
    srlm_teacher_file *tf = NULL;
    srlm_rundb *db = NULL;
    srlm_cmd *fb = NULL, *fwd = NULL, *opt = NULL;
    int64_t run_id = 0;
    int32_t *hi = NULL, *ht = NULL, *hp = NULL, *hs = NULL;
    float *hw = NULL, *tmp = NULL;
    srlm_status st = srlm_tokenizer_create(o->model_dir, &tok);
    srlm_data_options d;
    srlm_data_options_default(&d);
    d.seq_len = o->seq;
    d.batch = o->batch;
    d.pack = o->pack;
    d.seed = o->seed;
    d.eval_fraction = o->eval_fraction;
    d.eval_path = o->eval_data;
    d.meap = o->meap > 0 ? (pretrain ? SRLM_MEAP_PRETRAIN : SRLM_MEAP_SFT) : SRLM_MEAP_OFF;
    d.meap_ratio = o->meap;
    d.meap_concat = !strcmp(o->meap_layout, "concat");
    d.mask_id = o->mask_id;
    if (!st) st = srlm_train_model_create(ctx, init, o->batch, o->seq, o->recompute, &tm);
    if (!st) {
        d.vocab_rows = tm->cfg.vocab_size;
        srlm_train_plan p;
        srlm_train_plan_make(&tm->cfg, ctx, o->batch, o->seq, o->recompute, &p);
        srlm_train_plan_print(&p, srlm_ctx_mem_budget(ctx), log);
        st = srlm_dataset_open(tok, o->data, &d, &ds);
    }
    if (!st && kd_mode) {
        if (o->teacher) st = srlm_kd_create(tm, o->teacher, o->model_dir, tok, o->kd_alpha, o->kd_temp, o->kd_reverse, &kd);
        else st = srlm_teacher_file_open(o->teacher_logits, ds, &d, tm->cfg.vocab_size, o->kd_temp, &tf);
        if (!st && !kd) st = srlm_kd_create_topk(tm, srlm_teacher_file_k(tf), o->kd_alpha, o->kd_temp, o->kd_reverse, &kd);
        if (!st) fprintf(log, "  + distillation (%s)     %10.1f MiB; loss = %g CE + %g * %g^2 %s KL\n",
                         o->teacher ? "f16 teacher" : "top-k file", kd->bytes / 1048576.0, o->kd_alpha, 1.0 - o->kd_alpha,
                         o->kd_temp, o->kd_reverse ? "reverse" : "forward");
    }
    if (!st && resume_dir[0]) {
        char p[4300];
        snprintf(p, sizeof p, "%s/adam_m.safetensors", master);
        st = load_moments(tm->m1, p);
        if (!st) {
            snprintf(p, sizeof p, "%s/adam_v.safetensors", master);
            st = load_moments(tm->m2, p);
        }
        if (!st) st = srlm_dataset_seek(ds, cur);
        if (!st) fprintf(log, "resumed from %s at step %ld\n", resume_dir, start_step);
    }
    srlm_data_stats stats;
    if (!st) {
        srlm_dataset_stats(ds, &stats);
        fprintf(log, "data: %zu train samples (%zu tokens, %zu with loss), %zu eval samples; %zu truncated to %d tokens\n",
                stats.train_samples, stats.train_tokens, stats.loss_tokens, stats.eval_samples, stats.truncated, o->seq);
    }
    /* steps: an epoch is ceil(sequences / (batch*accum)) optimizer steps */
    long steps_per_epoch = 0, total = o->max_steps;
    if (!st) {
        size_t seqs = stats.train_samples + (d.meap == SRLM_MEAP_SFT && !d.meap_concat ? stats.train_samples : 0);
        steps_per_epoch = (long)((seqs + (size_t)(o->batch * o->accum) - 1) / (size_t)(o->batch * o->accum));
        if (steps_per_epoch < 1) steps_per_epoch = 1;
        if (!total) total = steps_per_epoch * o->epochs;
    }
    size_t N = st ? 0 : (size_t)tm->N;
    if (!st) {
        hi = malloc(N * 4), ht = malloc(N * 4), hp = malloc(N * 4), hs = malloc(N * 4), hw = malloc(N * 4), tmp = malloc(N * 4);
        if (!hi || !ht || !hp || !hs || !hw || !tmp) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    }
    if (!st) st = srlm_cmd_create(ctx, &fb);
    if (!st) st = srlm_cmd_create(ctx, &fwd);
    if (!st) st = srlm_cmd_create(ctx, &opt);
    if (!st) st = srlm_cmd_begin(fb);
    if (!st && kd) st = srlm_kd_record_teacher(fb, kd);
    if (!st) st = srlm_train_record_fwdbwd(fb, tm);
    if (!st) st = srlm_cmd_end(fb);
    if (!st) st = srlm_cmd_begin(fwd);
    if (!st && kd) st = srlm_kd_record_teacher(fwd, kd);
    if (!st) st = srlm_train_record_fwd(fwd, tm);
    if (!st) st = srlm_cmd_end(fwd);
    if (!st) st = srlm_cmd_begin(opt);
    if (!st) st = srlm_train_record_step(opt, tm, o->beta1, o->beta2, o->eps, o->max_grad_norm);
    if (!st) st = srlm_train_zero_grads(opt, tm); /* leave zeroed gradients for the next step */
    if (!st) st = srlm_cmd_end(opt);
    char dbpath[4200], cfgjson[4096];
    snprintf(dbpath, sizeof dbpath, "%s/run.db", o->out);
    snprintf(cfgjson, sizeof cfgjson,
             "{\"mode\": \"%s\", \"model\": \"%s\", \"data\": \"%s\", \"seq\": %d, \"batch\": %d, \"accum\": %d, "
             "\"lr\": %g, \"schedule\": \"%s\", \"warmup\": %d, \"epochs\": %d, \"meap\": %g, \"seed\": %llu, "
             "\"teacher\": \"%s\", \"teacher_logits\": \"%s\", \"kd_alpha\": %g, \"kd_temp\": %g, \"kd_reverse\": %d}",
             o->mode, o->model_dir, o->data, o->seq, o->batch, o->accum, o->lr, o->schedule, o->warmup, o->epochs, o->meap,
             (unsigned long long)o->seed, o->teacher ? o->teacher : "", o->teacher_logits ? o->teacher_logits : "",
             o->kd_alpha, o->kd_temp, o->kd_reverse);
    if (!st) st = srlm_rundb_open(dbpath, &db);
    if (!st) st = srlm_rundb_run_begin(db, o->mode, cfgjson, srlm_ctx_device_name(ctx), &run_id);
    bool tty = isatty(fileno(log));
    double t_start = now_s();
    long step = start_step;
    double last_loss = 0;
    while (!st && step < total && !(o->stop_after > 0 && step - start_step >= o->stop_after)) {
        step++;
        /* the step's batches first: the loss is normalised by its loss tokens */
        srlm_batch *bs = calloc((size_t)o->accum, sizeof *bs);
        if (!bs) { st = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
        size_t tokens = 0, loss_tokens = 0;
        for (int a = 0; !st && a < o->accum; a++) {
            int last;
            st = srlm_dataset_next_batch(ds, SRLM_SPLIT_TRAIN, &bs[a], &last);
            loss_tokens += bs[a].n_loss;
            tokens += (size_t)bs[a].rows * (size_t)bs[a].T;
        }
        double t0 = now_s(), loss = 0, kl = 0;
        for (int a = 0; !st && a < o->accum; a++) {
            st = upload_batch(tm, &bs[a], loss_tokens ? 1.0f / (float)loss_tokens : 0.0f, hi, ht, hw, hp, hs);
            if (!st && tf) st = srlm_teacher_file_upload(tf, kd, &bs[a]);
            if (!st) st = srlm_cmd_run(fb);
            double l = 0, k = 0;
            if (!st) st = read_loss(tm, tmp, &l);
            if (!st && kd) st = srlm_kd_kl_sum(kd, hw, &k);
            loss += l, kl += k;
        }
        double ce = loss;
        if (kd) loss = o->kd_alpha * ce + (1.0 - o->kd_alpha) * o->kd_temp * o->kd_temp * kl;
        for (int a = 0; a < o->accum; a++) srlm_batch_free(&bs[a]);
        free(bs);
        if (st) break;
        if (!isfinite(loss)) {
            st = srlm_errorf(SRLM_ERR_INVALID, "the loss is %g at step %ld: stopping; the last good checkpoint is kept in %s",
                             loss, step, o->out);
            break;
        }
        float lr = lr_at(o, step, total), hpv[SRLM_ADAMW_PARAM_FLOATS];
        srlm_adamw_params(hpv, lr, o->beta1, o->beta2, o->weight_decay, (int)step, 1.0f);
        st = srlm_buf_write(ctx, tm->hp, 0, hpv, sizeof hpv);
        if (!st) st = srlm_cmd_run(opt);
        if (!st) st = srlm_buf_read(ctx, tm->hp, 0, hpv, sizeof hpv);
        if (st) break;
        double dt = now_s() - t0, tps = (double)tokens / (dt > 0 ? dt : 1e-9);
        last_loss = loss;
        srlm_rundb_metric(db, run_id, step, "loss", loss);
        if (kd) {
            srlm_rundb_metric(db, run_id, step, "ce", ce);
            srlm_rundb_metric(db, run_id, step, "kl", kl);
        }
        srlm_rundb_metric(db, run_id, step, "lr", lr);
        srlm_rundb_metric(db, run_id, step, "grad_norm", hpv[SRLM_ADAMW_NORM]);
        srlm_rundb_metric(db, run_id, step, "tokens_per_s", tps);
        srlm_rundb_metric(db, run_id, step, "device_memory_mib", (double)srlm_ctx_mem_peak(ctx) / 1048576.0);
        double eta = (now_s() - t_start) / (double)(step - start_step) * (double)(total - step);
        char kdtxt[64] = "";
        if (kd) snprintf(kdtxt, sizeof kdtxt, " (ce %.4f kl %.4f)", ce, kl);
        fprintf(log, "%sstep %ld/%ld loss %.4f%s lr %.3g grad norm %.3g %.0f tokens/s ETA %.0fs%s", tty ? "\r" : "", step, total,
                loss, kdtxt, lr, hpv[SRLM_ADAMW_NORM], tps, eta, tty ? "   " : "\n");
        fflush(log);
        if (o->eval_every > 0 && step % o->eval_every == 0 && stats.eval_samples > 0) {
            double el = 0, ek = 0;
            size_t et = 0;
            int last = 0;
            while (!st && !last) {
                srlm_batch eb = {0};
                st = srlm_dataset_next_batch(ds, SRLM_SPLIT_EVAL, &eb, &last);
                if (!st && eb.rows) {
                    et += eb.n_loss;
                    st = upload_batch(tm, &eb, 1.0f, hi, ht, hw, hp, hs);
                    if (!st && tf) st = srlm_teacher_file_upload(tf, kd, &eb);
                    if (!st) st = srlm_cmd_run(fwd);
                    double l = 0, k = 0;
                    if (!st) st = read_loss(tm, tmp, &l);
                    if (!st && kd) st = srlm_kd_kl_sum(kd, hw, &k);
                    el += l, ek += k;
                }
                srlm_batch_free(&eb);
            }
            if (!st && et) {
                srlm_rundb_metric(db, run_id, step, "eval_loss", el / (double)et);
                fprintf(log, "%seval loss %.4f over %zu tokens\n", tty ? "\n" : "", el / (double)et, et);
                if (kd) {
                    srlm_rundb_metric(db, run_id, step, "eval_kl", ek / (double)et);
                    fprintf(log, "eval kl %.6f\n", ek / (double)et);
                }
            }
        }
        if (!st && ((o->save_every > 0 && step % o->save_every == 0) || step == total)) {
            char dir[4096];
            st = save_checkpoint(tm, o, step, srlm_dataset_cursor(ds), cfgjson, dir, sizeof dir);
            if (!st) st = srlm_rundb_checkpoint(db, run_id, step, dir);
        }
    }
    if (tty) fputc('\n', log);
    if (db) {
        srlm_status_free(srlm_rundb_run_end(db, run_id, st ? "failed" : "finished"));
        srlm_status_free(srlm_rundb_flush(db));
    }
    if (!st) fprintf(log, "trained %ld steps; last loss %.4f; checkpoints in %s, metrics in %s\n", step - start_step, last_loss,
                     o->out, dbpath);
    free(hi), free(ht), free(hp), free(hs), free(hw), free(tmp);
    srlm_cmd_destroy(fb), srlm_cmd_destroy(fwd), srlm_cmd_destroy(opt);
    srlm_rundb_close(db);
    srlm_kd_destroy(kd);
    srlm_teacher_file_close(tf);
    srlm_dataset_destroy(ds);
    srlm_train_model_destroy(tm);
    srlm_tokenizer_destroy(tok);
    return st;
}
