#version 450
// attn_paged_tg: the same attention as attn_paged.comp (read its header for the math, the
// cache layout and the bindings), one invocation per (row, kv head, split) computing all
// G = NH/NKV query heads of the group: each K/V row is loaded once for G heads. Meant for
// CPU devices (lavapipe), where every buffer load of a divergent address costs one scalar
// load per lane while local arrays are plain vector registers or stack: loads per
// multiply-add drop G-fold. No subgroup operations. Heavy on registers: not for GPUs.
// KV_F32: f32 pools instead of f16 (common/kv_load.glsl).
// bindings: as attn_paged. push: srlm_push_attn_paged.
// spec: 0 = workgroup size, 1 = HS, 2 = BS, 3 = G (query heads per kv head).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HS = 64;
layout(constant_id = 2) const uint BS = 16;
layout(constant_id = 3) const uint G = 1;
layout(std430, binding = 0) writeonly buffer O { vec4 o[]; };
layout(std430, binding = 1) writeonly buffer PT { float part[]; };
layout(std430, binding = 2) readonly buffer Q { vec4 q[]; };
#include "kv_load.glsl"
layout(std430, binding = 5) readonly buffer BT { int block_table[]; };
layout(std430, binding = 6) readonly buffer QS { int qseq[]; };
layout(std430, binding = 7) readonly buffer QP { int qpos[]; };
layout(push_constant) uniform P {
  uint Tq; uint NH; uint NKV; uint num_seqs; uint max_blocks; uint num_blocks;
  uint nsplit; uint split_len; float scale;
} p;

const uint H4 = HS / 4u;
const uint H8 = HS / 8u;

void main() {
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  uint total = p.Tq * p.NKV * p.nsplit;
  for (uint item = gl_GlobalInvocationID.x; item < total; item += stride) {
    uint sp = item % p.nsplit;
    uint rk = item / p.nsplit;
    uint hk = rk % p.NKV, r = rk / p.NKV;
    int seq = qseq[r], pos = qpos[r];
    bool valid = seq >= 0 && uint(seq) < p.num_seqs && pos >= 0;
    uint n = valid ? min(uint(pos) + 1u, p.max_blocks * BS) : 0u;
    uint begin = sp * p.split_len;
    uint end = min(n, begin + p.split_len);
    uint bt = uint(max(seq, 0)) * p.max_blocks;

    vec4 qv[G * H4], acc[G * H4], row[H4];
    float m[G], l[G], pr[G];
    for (uint g = 0u; g < G; g++) {
      m[g] = -1e30; l[g] = 0.0;
      uint qb = (r * p.NH + hk * G + g) * H4;
      for (uint i = 0u; i < H4; i++) { qv[g * H4 + i] = q[qb + i] * p.scale; acc[g * H4 + i] = vec4(0.0); }
    }
    for (uint cb = begin / BS; cb * BS < end; cb++) {
      int blk = block_table[bt + cb];
      if (blk < 0 || uint(blk) >= p.num_blocks) continue;
      uint t0 = max(cb * BS, begin), t1 = min(cb * BS + BS, end);
      uint base = (uint(blk) * p.NKV + hk) * BS * H8;
      for (uint t = t0; t < t1; t++) {
        uint rb = base + (t - cb * BS) * H8;
        for (uint i = 0u; i < H8; i++) k_chunk(rb + i, row[2u * i], row[2u * i + 1u]);
        for (uint g = 0u; g < G; g++) {
          float s = 0.0;
          for (uint i = 0u; i < H4; i++) s += dot(row[i], qv[g * H4 + i]);
          if (s > m[g]) {
            float c = exp(m[g] - s);
            l[g] *= c;
            for (uint i = 0u; i < H4; i++) acc[g * H4 + i] *= c;
            m[g] = s;
          }
          pr[g] = exp(s - m[g]);
          l[g] += pr[g];
        }
        for (uint i = 0u; i < H8; i++) v_chunk(rb + i, row[2u * i], row[2u * i + 1u]);
        for (uint g = 0u; g < G; g++)
          for (uint i = 0u; i < H4; i++) acc[g * H4 + i] += pr[g] * row[i];
      }
    }
    for (uint g = 0u; g < G; g++) {
      uint h = hk * G + g;
      if (p.nsplit == 1u) {
        float inv = l[g] > 0.0 ? 1.0 / l[g] : 0.0;
        for (uint i = 0u; i < H4; i++) o[(r * p.NH + h) * H4 + i] = acc[g * H4 + i] * inv;
      } else {
        uint pb = ((r * p.NH + h) * p.nsplit + sp) * (HS + 2u);
        for (uint i = 0u; i < H4; i++) {
          vec4 a = acc[g * H4 + i];
          part[pb + 4u * i] = a.x; part[pb + 4u * i + 1u] = a.y; part[pb + 4u * i + 2u] = a.z; part[pb + 4u * i + 3u] = a.w;
        }
        part[pb + HS] = m[g];
        part[pb + HS + 1u] = l[g];
      }
    }
  }
}
