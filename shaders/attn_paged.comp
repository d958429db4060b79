#version 450
// attn_paged: causal grouped-query attention of query rows over a paged f16 KV cache: one
// kernel for prefill, decode and extend of many sequences in one dispatch. With KV_F32
// defined the pools hold f32 instead of f16 (common/kv_load.glsl).
//   Row r (sequence qseq[r], absolute position qpos[r]) and head h attend to positions
//   0..qpos[r] of that sequence, kv head h / (NH/NKV): s_t = scale * q.k_t,
//   out = sum_t softmax(s)_t v_t, with an online (running max) softmax in fp32.
// Cache layout: [num_blocks][NKV][BS][HS] halves, two per uint (or f32 with KV_F32); position t of sequence s is
// row t % BS of block block_table[s * max_blocks + t / BS]. HS must be a multiple of 8
// (rows are read as uvec4). A row with qseq or qpos < 0 gives zeros.
// Work item = (row, head, split): split sp covers positions [sp*split_len, (sp+1)*split_len).
// With nsplit == 1 the item writes out directly; otherwise it writes its unnormalised
// accumulator, max and sum (HS + 2 floats) to part and attn_combine finishes.
//   SUBGROUP: one subgroup per item, its lanes take every nl-th block, then subgroup
//             max/add merge the lanes (no shared memory, no barrier; any subgroup size).
//   otherwise: one invocation per item (devices without subgroup arithmetic).
// bindings: 0 = out (Tq,NH,HS) f32 (written), 1 = part (Tq,NH,nsplit,HS+2) f32 (written),
//   2 = q (Tq,NH,HS) f32, 3 = kcache (uvec4), 4 = vcache (uvec4), 5 = block_table
//   (num_seqs,max_blocks) int32, 6 = qseq (Tq) int32, 7 = qpos (Tq) int32.
// push: srlm_push_attn_paged. spec 0 = workgroup size, 1 = HS, 2 = BS (block size).
#extension GL_GOOGLE_include_directive : require
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HS = 64;
layout(constant_id = 2) const uint BS = 16;
layout(std430, binding = 0) writeonly buffer O { float o[]; };
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

const uint H4 = HS / 4u; // vec4 per row
const uint H8 = HS / 8u; // uvec4 (8 halves) per row

void main() {
#ifdef SUBGROUP
  uint lane = subgroupExclusiveAdd(1u);
  uint nl = subgroupAdd(1u);
  uint first = gl_WorkGroupID.x * gl_NumSubgroups + gl_SubgroupID;
  uint step = gl_NumWorkGroups.x * gl_NumSubgroups;
#else
  uint lane = 0u, nl = 1u;
  uint first = gl_GlobalInvocationID.x;
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
#endif
  uint total = p.Tq * p.NH * p.nsplit;
  uint group = p.NH / p.NKV;
  for (uint item = first; item < total; item += step) {
    uint sp = item % p.nsplit;
    uint rh = item / p.nsplit;
    uint h = rh % p.NH, r = rh / p.NH;
    uint hk = h / group;
    int seq = qseq[r], pos = qpos[r];
    bool valid = seq >= 0 && uint(seq) < p.num_seqs && pos >= 0;
    uint n = valid ? min(uint(pos) + 1u, p.max_blocks * BS) : 0u;
    uint begin = sp * p.split_len;
    uint end = min(n, begin + p.split_len);
    uint bt = uint(max(seq, 0)) * p.max_blocks;

    vec4 qv[H4], acc[H4];
    for (uint i = 0u; i < H4; i++) { qv[i] = q[rh * H4 + i] * p.scale; acc[i] = vec4(0.0); }
    float m = -1e30, l = 0.0;
    // Lanes take whole blocks: one block-table read and at most one rescale per block.
    for (uint cb = begin / BS + lane; cb * BS < end; cb += nl) {
      int blk = block_table[bt + cb];
      if (blk < 0 || uint(blk) >= p.num_blocks) continue;
      uint t0 = max(cb * BS, begin), t1 = min(cb * BS + BS, end);
      uint base = (uint(blk) * p.NKV + hk) * BS * H8;
      float s[BS];
      float bm = -1e30;
      for (uint j = 0u; j < BS; j++) {
        uint t = cb * BS + j;
        s[j] = -1e30;
        if (t >= t0 && t < t1) {
          float d = 0.0;
          for (uint i = 0u; i < H8; i++) {
            vec4 lo, hi;
            k_chunk(base + j * H8 + i, lo, hi);
            d += dot(lo, qv[2u * i]) + dot(hi, qv[2u * i + 1u]);
          }
          s[j] = d;
          bm = max(bm, d);
        }
      }
      if (bm > m) {
        float c = exp(m - bm);
        l *= c;
        for (uint i = 0u; i < H4; i++) acc[i] *= c;
        m = bm;
      }
      for (uint j = 0u; j < BS; j++) {
        uint t = cb * BS + j;
        if (t >= t0 && t < t1) {
          float pr = exp(s[j] - m);
          l += pr;
          for (uint i = 0u; i < H8; i++) {
            vec4 lo, hi;
            v_chunk(base + j * H8 + i, lo, hi);
            acc[2u * i] += pr * lo;
            acc[2u * i + 1u] += pr * hi;
          }
        }
      }
    }
#ifdef SUBGROUP
    float M = subgroupMax(m);
    float f = exp(m - M); // a lane that saw nothing has m = -1e30 and l = 0: f = 0 or 1, no effect
    l = subgroupAdd(l * f);
    for (uint i = 0u; i < H4; i++) acc[i] = subgroupAdd(acc[i] * f);
    m = M;
#endif
    if (p.nsplit == 1u) {
      float inv = l > 0.0 ? 1.0 / l : 0.0;
      for (uint i = 0u; i < H4; i++)
        if (i % nl == lane) {
          vec4 a = acc[i] * inv;
          uint b = rh * HS + 4u * i;
          o[b] = a.x; o[b + 1u] = a.y; o[b + 2u] = a.z; o[b + 3u] = a.w;
        }
    } else {
      uint pb = item * (HS + 2u);
      for (uint i = 0u; i < H4; i++)
        if (i % nl == lane) {
          uint b = pb + 4u * i;
          part[b] = acc[i].x; part[b + 1u] = acc[i].y; part[b + 2u] = acc[i].z; part[b + 3u] = acc[i].w;
        }
      if (lane == 0u) { part[pb + HS] = m; part[pb + HS + 1u] = l; }
    }
  }
}
