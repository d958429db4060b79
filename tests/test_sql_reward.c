/* test_sql_reward.c: SQL-R1 and ReEx-SQL output parsing and reward terms on constructed
 * strings (papers.md sections 3-4), SQL normalisation and whitespace collapse. */
#include "test.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static void test_sqlr1(void) {
    srlm_sqlr1_parsed p;
    /* valid; the last ```sql block of the answer is used, whitespace collapsed */
    const char *ok = "<think>two queries came to mind</think>\n<answer>first:\n```sql\nSELECT 1\n```\nbetter:\n"
                     "```sql\nSELECT  name\n   FROM singer\n```\n</answer>";
    CHECK_OK(srlm_sqlr1_parse(ok, 0, &p));
    CHECK(p.format_ok, "valid format");
    CHECK(p.sql && !strcmp(p.sql, "SELECT name FROM singer"), "sql '%s'", p.sql ? p.sql : "");
    CHECK(p.think_chars == strlen("two queries came to mind"), "think chars %zu", p.think_chars);
    size_t ans = strlen("first:\n```sql\nSELECT 1\n```\nbetter:\n```sql\nSELECT  name\n   FROM singer\n```\n");
    CHECK(p.answer_chars == ans, "answer chars %zu want %zu", p.answer_chars, ans);
    CHECK(p.sql_chars == 23, "sql chars %zu", p.sql_chars);
    srlm_sqlr1_reward r = srlm_sqlr1_reward_compute(&p, 1, 1);
    double len = 0.5 * (double)(p.think_chars + p.answer_chars) / 2048.0 + 23.0 / (double)ans;
    CHECK(NEAR(r.format, 1) && NEAR(r.execution, 2) && NEAR(r.result, 3) && NEAR(r.length, len) &&
          NEAR(r.total, 6 + len), "matched: %g %g %g %g = %g", r.format, r.execution, r.result, r.length, r.total);
    r = srlm_sqlr1_reward_compute(&p, 1, 0);
    CHECK(NEAR(r.result, -3) && NEAR(r.length, 0) && NEAR(r.total, 0), "executed, wrong: total %g", r.total);
    r = srlm_sqlr1_reward_compute(&p, 0, 0);
    CHECK(NEAR(r.execution, -2) && NEAR(r.result, 0) && NEAR(r.total, -1), "error: total %g", r.total);
    srlm_sqlr1_parsed_free(&p);

    /* prompt ended with "<think>\n": the completion has no opening tag */
    CHECK_OK(srlm_sqlr1_parse("reasoning</think><answer>```sql SELECT 2 ```</answer>", 1, &p));
    CHECK(p.format_ok && p.sql && !strcmp(p.sql, "SELECT 2"), "open_think: ok=%d sql='%s'", p.format_ok, p.sql ? p.sql : "");
    CHECK(p.think_chars == 9, "think chars %zu", p.think_chars);
    srlm_sqlr1_parsed_free(&p);

    /* length term saturates: 0.5 * min(1, ...) */
    char *longt = malloc(5000);
    memset(longt, 'x', 4999);
    longt[4999] = '\0';
    char *txt = malloc(6000);
    snprintf(txt, 6000, "<think>%s</think><answer>```sql\nSELECT 1\n```</answer>", longt);
    CHECK_OK(srlm_sqlr1_parse(txt, 0, &p));
    r = srlm_sqlr1_reward_compute(&p, 1, 1);
    CHECK(NEAR(r.length, 0.5 + 8.0 / (double)strlen("```sql\nSELECT 1\n```")), "length %g", r.length);
    CHECK(r.total <= 7.5 && r.total >= -1, "range");
    srlm_sqlr1_parsed_free(&p);
    free(longt);
    free(txt);

    /* invalid formats: -1 and nothing else */
    const char *bad[] = {
        "<answer>```sql SELECT 1```</answer>",                                      /* no think */
        "<think>a</think><think>b</think><answer>```sql SELECT 1```</answer>",      /* think twice */
        "<answer>```sql SELECT 1```</answer><think>a</think>",                      /* wrong order */
        "<think>a</think><answer>SELECT 1</answer>",                                /* no sql block */
        "<think>a</think><answer>```sql SELECT 1</answer>",                         /* unclosed block */
        "<think>a</think><answer>```sql SELECT 1```",                               /* no </answer> */
        "<think>a</think><answer>```sql   ```</answer>",                            /* empty sql */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_OK(srlm_sqlr1_parse(bad[i], 0, &p));
        r = srlm_sqlr1_reward_compute(&p, 1, 1);
        CHECK(!p.format_ok && NEAR(r.total, -1) && NEAR(r.execution, 0) && NEAR(r.result, 0),
              "bad #%zu: ok=%d total %g", i, p.format_ok, r.total);
        srlm_sqlr1_parsed_free(&p);
    }
    /* an invalid format still yields the SQL for evaluation */
    CHECK_OK(srlm_sqlr1_parse("```sql\nSELECT 3\n```", 0, &p));
    CHECK(!p.format_ok && p.sql && !strcmp(p.sql, "SELECT 3"), "sql extracted anyway");
    srlm_sqlr1_parsed_free(&p);
}

static void test_reex(void) {
    srlm_reex_parsed p;
    const char *ok = "<think>Which table?</think><intermediate_sql>SELECT name\n FROM sqlite_master</intermediate_sql>"
                     "<result>name\nsinger\nconcert</result><think>now count</think>"
                     "<intermediate_sql>SELECT count(*) FROM nope</intermediate_sql><result>error: no such table: nope</result>"
                     "<final_sql>SELECT count(*)\nFROM singer</final_sql>\n<|im_end|>";
    CHECK_OK(srlm_reex_parse(ok, 10, &p));
    CHECK(p.format_ok, "valid: %s", p.error ? p.error : "");
    CHECK(p.n_intermediate == 2, "2 intermediate, got %d", p.n_intermediate);
    CHECK(p.n_intermediate == 2 && !strcmp(p.intermediate[0], "SELECT name FROM sqlite_master"), "first '%s'",
          p.n_intermediate ? p.intermediate[0] : "");
    CHECK(p.n_intermediate == 2 && p.results[1] && !strcmp(p.results[1], "error: no such table: nope"), "second result");
    CHECK(p.final_sql && !strcmp(p.final_sql, "SELECT count(*) FROM singer"), "final '%s'", p.final_sql ? p.final_sql : "");
    const char *names[] = {"singer", "concert", "singer_id", "name", "age", "Name"};
    srlm_reex_weights w;
    srlm_reex_weights_default(&w);
    CHECK(NEAR(w.format, 2) && NEAR(w.exact, 1) && NEAR(w.execution, 3) && NEAR(w.entity, 1) && NEAR(w.exploration, 2), "weights");
    /* exact (normalised), executed match, entity 1/1 (singer), exploration 1 of 2 */
    srlm_reex_reward r = srlm_reex_reward_compute(&p, "select COUNT( * ) from singer ;", names, 6, 1, 1, NULL);
    CHECK(NEAR(r.format, 2) && NEAR(r.exact, 1) && NEAR(r.execution, 3) && NEAR(r.entity, 1) && NEAR(r.exploration, 1) &&
          NEAR(r.total, 8), "terms %g %g %g %g %g = %g", r.format, r.exact, r.execution, r.entity, r.exploration, r.total);
    /* gold mentions singer, name, age: final mentions only singer -> 1/3 */
    r = srlm_reex_reward_compute(&p, "SELECT T1.Name FROM singer AS T1 WHERE T1.\"Age\" > 30", names, 6, 0, 0, NULL);
    CHECK(NEAR(r.exact, 0) && NEAR(r.execution, 0) && NEAR(r.entity, 1.0 / 3.0) && NEAR(r.exploration, 0),
          "entity %g exploration %g", r.entity, r.exploration);
    /* exploration is capped at 1 however many succeed */
    r = srlm_reex_reward_compute(&p, "SELECT 1", names, 6, 0, 7, NULL);
    CHECK(NEAR(r.exploration, 2), "capped exploration %g", r.exploration);
    srlm_reex_parsed_free(&p);

    /* fenced SQL inside the blocks */
    CHECK_OK(srlm_reex_parse("<think>x</think><intermediate_sql>```SELECT 1```</intermediate_sql><result>1</result>"
                             "<final_sql>\n```sql\nSELECT  2\n```\n</final_sql>", 10, &p));
    CHECK(p.format_ok && p.n_intermediate == 1 && !strcmp(p.intermediate[0], "SELECT 1") && p.final_sql &&
          !strcmp(p.final_sql, "SELECT 2"), "fences dropped: '%s' '%s'", p.n_intermediate ? p.intermediate[0] : "",
          p.final_sql ? p.final_sql : "");
    srlm_reex_parsed_free(&p);

    /* no intermediate queries: exploration 0 */
    CHECK_OK(srlm_reex_parse("<think>easy</think><final_sql>SELECT 1</final_sql>", 10, &p));
    r = srlm_reex_reward_compute(&p, "SELECT 1", NULL, 0, 1, 0, NULL);
    CHECK(p.format_ok && NEAR(r.exploration, 0) && NEAR(r.total, 6), "direct answer total %g", r.total);
    srlm_reex_parsed_free(&p);

    const char *bad[] = {
        "<final_sql>SELECT 1</final_sql>",                                                           /* no think */
        "<think>x</think>",                                                                           /* no final */
        "<think>x</think><final_sql>  </final_sql>",                                                  /* empty final */
        "<think>x</think><intermediate_sql>SELECT 1</intermediate_sql><final_sql>SELECT 1</final_sql>", /* no result */
        "<think>x</think><result>made up</result><final_sql>SELECT 1</final_sql>",                    /* result w/o query */
        "<think>x<final_sql>SELECT 1</final_sql></think>",                                            /* nested */
        "<think>x</think><final_sql>SELECT 1</final_sql> and more text",                              /* trailing */
        "<think>x</think><final_sql>SELECT 1</final_sql><final_sql>SELECT 2</final_sql>",             /* two finals */
        "<think>x</think><intermediate_sql>SELECT 1",                                                 /* never closed */
        "<think>x</think><final_sql>SELECT 1</intermediate_sql>",                                     /* mismatched */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_OK(srlm_reex_parse(bad[i], 10, &p));
        r = srlm_reex_reward_compute(&p, "SELECT 1", NULL, 0, 1, 1, NULL);
        CHECK(!p.format_ok && p.error && NEAR(r.total, 0), "bad #%zu: ok=%d total %g", i, p.format_ok, r.total);
        if (p.error) printf("  bad #%zu: %s\n", i, p.error);
        srlm_reex_parsed_free(&p);
    }
    /* more interactions than allowed */
    char many[4096] = "<think>x</think>";
    for (int i = 0; i < 3; i++) strcat(many, "<intermediate_sql>SELECT 1</intermediate_sql><result>1</result>");
    strcat(many, "<final_sql>SELECT 1</final_sql>");
    CHECK_OK(srlm_reex_parse(many, 2, &p));
    CHECK(!p.format_ok && p.n_intermediate == 3, "3 > 2 interactions");
    srlm_reex_parsed_free(&p);
    CHECK_OK(srlm_reex_parse(many, 3, &p));
    CHECK(p.format_ok, "3 <= 3 interactions");
    srlm_reex_parsed_free(&p);
}

static void test_normalize(void) {
    char *a = NULL, *b = NULL;
    CHECK_OK(srlm_sql_normalize("SELECT  count( * )\nFROM Singer WHERE name = 'Joe  Sharp' ;", &a));
    CHECK_OK(srlm_sql_normalize("select count(*) from singer where NAME='Joe  Sharp'", &b));
    CHECK(a && b && !strcmp(a, b), "'%s' vs '%s'", a ? a : "", b ? b : "");
    free(a);
    free(b);
    CHECK_OK(srlm_sql_normalize("SELECT 'A'", &a));
    CHECK_OK(srlm_sql_normalize("SELECT 'a'", &b));
    CHECK(a && b && strcmp(a, b), "string literals keep their case");
    free(a);
    free(b);
    CHECK_OK(srlm_sql_collapse_ws("  SELECT\t1 \n\n FROM   t  ", &a));
    CHECK(a && !strcmp(a, "SELECT 1 FROM t"), "collapse '%s'", a ? a : "");
    free(a);
}

/* Tag soup: parsers never crash (ASan build), and the rewards stay in their ranges. */
static void test_soup(void) {
    static const char *const toks[] = {"<think>", "</think>", "<answer>", "</answer>", "```sql", "```", "SELECT 1",
                                       "<intermediate_sql>", "</intermediate_sql>", "<result>", "</result>",
                                       "<final_sql>", "</final_sql>", " ", "\n", "x", "<", "</", "\xc3\xa9"};
    unsigned long long seed = 7;
    int valid1 = 0, valid2 = 0;
    for (int t = 0; t < 20000; t++) {
        char buf[512];
        size_t n = 0;
        /* a third random soup; the rest valid texts of either format with 0-2 token mutations */
        static const char *const t1[] = {"<think>", "x", "</think>", "<answer>", "```sql", "SELECT 1", "```", "</answer>"};
        static const char *const t2[] = {"<think>", "x", "</think>", "<intermediate_sql>", "SELECT 1", "</intermediate_sql>",
                                         "<result>", "x", "</result>", "<final_sql>", "SELECT 1", "</final_sql>"};
        const char *seq[32];
        int k = 0, kind = (int)(test_rand_u64(&seed) % 3);
        if (kind == 0) {
            k = (int)(test_rand_u64(&seed) % 24);
            for (int i = 0; i < k; i++) seq[i] = toks[test_rand_u64(&seed) % (sizeof toks / sizeof *toks)];
        } else {
            const char *const *tp = kind == 1 ? t1 : t2;
            k = kind == 1 ? 8 : 12;
            for (int i = 0; i < k; i++) seq[i] = tp[i];
            int muts = (int)(test_rand_u64(&seed) % 3);
            for (int m = 0; m < muts && k > 0; m++) {
                int at = (int)(test_rand_u64(&seed) % (unsigned)k);
                int op = (int)(test_rand_u64(&seed) % 3);
                if (op == 0) { memmove(&seq[at], &seq[at + 1], (size_t)(k - at - 1) * sizeof *seq); k--; }
                else if (op == 1 && k < 31) { memmove(&seq[at + 1], &seq[at], (size_t)(k - at) * sizeof *seq); k++; }
                else seq[at] = toks[test_rand_u64(&seed) % (sizeof toks / sizeof *toks)];
            }
        }
        for (int i = 0; i < k; i++) {
            size_t l = strlen(seq[i]);
            if (n + l >= sizeof buf) break;
            memcpy(buf + n, seq[i], l);
            n += l;
        }
        buf[n] = '\0';
        srlm_sqlr1_parsed p;
        CHECK_OK(srlm_sqlr1_parse(buf, 0, &p));
        srlm_sqlr1_reward r = srlm_sqlr1_reward_compute(&p, t % 3 != 0, t % 2 == 0);
        if (p.format_ok) valid1++;
        if (!(r.total >= -1.0 && r.total <= 7.5) || (p.format_ok && (!p.sql || !*p.sql)))
            CHECK(0, "SQL-R1 soup '%s': total %g", buf, r.total);
        srlm_sqlr1_parsed_free(&p);
        srlm_reex_parsed q;
        CHECK_OK(srlm_reex_parse(buf, 3, &q));
        srlm_reex_reward rr = srlm_reex_reward_compute(&q, "SELECT 1", NULL, 0, 1, t % 5, NULL);
        if (q.format_ok) valid2++;
        if (!(rr.total >= 0.0 && rr.total <= 9.0) || (q.format_ok != (q.error == NULL)))
            CHECK(0, "ReEx soup '%s': total %g", buf, rr.total);
        srlm_reex_parsed_free(&q);
    }
    printf("tag soup: 20000 texts, %d valid SQL-R1, %d valid ReEx\n", valid1, valid2);
    CHECK(valid1 > 1000 && valid2 > 1000, "enough valid texts to test the ranges");
}

int main(void) {
    test_soup();
    test_sqlr1();
    test_reex();
    test_normalize();
    return test_finish("test_sql_reward");
}
