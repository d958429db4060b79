/* engine.h: internal view of the inference engine (the public API is in srlm.h). */
#ifndef SRLM_ENGINE_H
#define SRLM_ENGINE_H

#include "model/forward.h"

const srlm_model *srlm_engine_model(const srlm_engine *e);
/* Bytes of a KV cache of num_blocks blocks of `block` tokens (K and V, all layers, f16). */
uint64_t srlm_engine_kv_bytes(const srlm_model_config *cfg, int num_blocks, int block);
/* The same for a cache stored as dt (SRLM_KV_F16 or SRLM_KV_F32). */
uint64_t srlm_engine_kv_bytes_dt(const srlm_model_config *cfg, int num_blocks, int block, srlm_kv_dtype dt);

#endif
