#version 450
// attn_paged_gqa: the same attention as attn_paged.comp (read its header for the math, the
// cache layout and the bindings), organised for decode: one subgroup per (row, kv head,
// split) computes all G = NH/NKV query heads of that kv head, so each K/V row is read once
// for the group; lanes form teams of TS, a team takes one position at a time and its lanes
// split the head dimension (contiguous uvec4 loads), partial dot products are summed with
// subgroupShuffleXor inside the team; teams are merged at the end (max, exp-rescale, sum).
// Control flow is uniform over the subgroup (positions past the end are masked), so the
// shuffles never read inactive lanes. Needs subgroup basic/arithmetic/shuffle, full
// subgroups (workgroup size a multiple of the largest subgroup size) and TS dividing the
// subgroup size (the host uses min(HS/8, smallest subgroup size); HS/8 a power of two).
// KV_F32: f32 pools instead of f16 (common/kv_load.glsl).
// bindings: as attn_paged (0 = out, 1 = part, 2 = q, 3 = kcache, 4 = vcache, 5 = block_table,
//   6 = qseq, 7 = qpos). push: srlm_push_attn_paged.
// spec: 0 = workgroup size, 1 = HS, 2 = BS, 3 = G (query heads per kv head), 4 = TS.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_shuffle : require
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HS = 64;
layout(constant_id = 2) const uint BS = 16;
layout(constant_id = 3) const uint G = 1;
layout(constant_id = 4) const uint TS = 8;
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
const uint CPL = H8 / TS;      // uvec4 chunks per lane: chunk tl + c * TS
const uint G4 = (G + 3u) / 4u; // heads' scores packed in vec4

void main() {
  uint lane = gl_SubgroupInvocationID, nl = gl_SubgroupSize;
  uint tl = lane % TS, team = lane / TS, nteams = nl / TS;
  uint first = gl_WorkGroupID.x * gl_NumSubgroups + gl_SubgroupID;
  uint step = gl_NumWorkGroups.x * gl_NumSubgroups;
  uint total = p.Tq * p.NKV * p.nsplit;
  for (uint item = first; item < total; item += step) {
    uint sp = item % p.nsplit;
    uint rk = item / p.nsplit;
    uint hk = rk % p.NKV, r = rk / p.NKV;
    int seq = qseq[r], pos = qpos[r];
    bool valid = seq >= 0 && uint(seq) < p.num_seqs && pos >= 0;
    uint n = valid ? min(uint(pos) + 1u, p.max_blocks * BS) : 0u;
    uint begin = sp * p.split_len;
    uint end = min(n, begin + p.split_len);
    uint bt = uint(max(seq, 0)) * p.max_blocks;

    vec4 qv[G * CPL * 2u], acc[G * CPL * 2u];
    float m[G], l[G];
    for (uint g = 0u; g < G; g++) {
      m[g] = -1e30; l[g] = 0.0;
      uint qb = (r * p.NH + hk * G + g) * H4;
      for (uint c = 0u; c < CPL; c++) {
        uint ch = tl + c * TS;
        qv[(g * CPL + c) * 2u] = q[qb + 2u * ch] * p.scale;
        qv[(g * CPL + c) * 2u + 1u] = q[qb + 2u * ch + 1u] * p.scale;
        acc[(g * CPL + c) * 2u] = vec4(0.0);
        acc[(g * CPL + c) * 2u + 1u] = vec4(0.0);
      }
    }
    for (uint t0 = begin; t0 < end; t0 += nteams) {
      uint t = t0 + team;
      int blk = t < end ? block_table[bt + t / BS] : -1;
      bool ok = blk >= 0 && uint(blk) < p.num_blocks;
      uint base = ok ? ((uint(blk) * p.NKV + hk) * BS + t % BS) * H8 : 0u;
      vec4 kv[CPL * 2u];
      for (uint c = 0u; c < CPL; c++) {
        kv[2u * c] = vec4(0.0);
        kv[2u * c + 1u] = vec4(0.0);
        if (ok) k_chunk(base + tl + c * TS, kv[2u * c], kv[2u * c + 1u]);
      }
      vec4 s4[G4];
      for (uint j = 0u; j < G4; j++) s4[j] = vec4(0.0);
      for (uint g = 0u; g < G; g++) {
        float d = 0.0;
        for (uint c = 0u; c < CPL; c++)
          d += dot(kv[2u * c], qv[(g * CPL + c) * 2u]) + dot(kv[2u * c + 1u], qv[(g * CPL + c) * 2u + 1u]);
        s4[g / 4u][g % 4u] = d;
      }
      for (uint off = 1u; off < TS; off <<= 1u)
        for (uint j = 0u; j < G4; j++) s4[j] += subgroupShuffleXor(s4[j], off);
      if (ok) {
        for (uint c = 0u; c < CPL; c++) v_chunk(base + tl + c * TS, kv[2u * c], kv[2u * c + 1u]);
        for (uint g = 0u; g < G; g++) {
          float s = s4[g / 4u][g % 4u];
          if (s > m[g]) { // rescale only when the running max grows: one exp per position usually
            float corr = exp(m[g] - s);
            l[g] *= corr;
            for (uint c = 0u; c < CPL * 2u; c++) acc[g * CPL * 2u + c] *= corr;
            m[g] = s;
          }
          float pr = exp(s - m[g]);
          l[g] += pr;
          for (uint c = 0u; c < CPL * 2u; c++) acc[g * CPL * 2u + c] += pr * kv[c];
        }
      }
    }
    // merge the teams: lanes with the same tl hold the same dims
    for (uint g = 0u; g < G; g++) {
      float M = subgroupMax(m[g]);
      float f = exp(m[g] - M);
      float L = subgroupAdd(tl == 0u ? l[g] * f : 0.0);
      uint h = hk * G + g;
      for (uint c = 0u; c < CPL * 2u; c++) {
        vec4 a = acc[g * CPL * 2u + c] * f;
        for (uint off = TS; off < nl; off <<= 1u) a += subgroupShuffleXor(a, off);
        acc[g * CPL * 2u + c] = a;
      }
      if (team == 0u) {
        if (p.nsplit == 1u) {
          float inv = L > 0.0 ? 1.0 / L : 0.0;
          for (uint c = 0u; c < CPL; c++) {
            uint ob = (r * p.NH + h) * H4 + 2u * (tl + c * TS);
            o[ob] = acc[(g * CPL + c) * 2u] * inv;
            o[ob + 1u] = acc[(g * CPL + c) * 2u + 1u] * inv;
          }
        } else {
          uint pb = ((r * p.NH + h) * p.nsplit + sp) * (HS + 2u);
          for (uint c = 0u; c < CPL; c++) {
            uint b = pb + 8u * (tl + c * TS);
            vec4 a0 = acc[(g * CPL + c) * 2u], a1 = acc[(g * CPL + c) * 2u + 1u];
            part[b] = a0.x; part[b + 1u] = a0.y; part[b + 2u] = a0.z; part[b + 3u] = a0.w;
            part[b + 4u] = a1.x; part[b + 5u] = a1.y; part[b + 6u] = a1.z; part[b + 7u] = a1.w;
          }
          if (tl == 0u) { part[pb + HS] = M; part[pb + HS + 1u] = L; }
        }
      }
    }
  }
}
