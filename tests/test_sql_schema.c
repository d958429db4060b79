/* test_sql_schema.c: schema text and prompts on a real Spider database: CREATE TABLE
 * statements, foreign keys, sample values, evidence, question, format instructions, and the
 * ChatML ending that SQL-R1 prescribes. */
#include "test.h"

#include <unistd.h>

#define HAS(s, needle) CHECK((s) && strstr((s), (needle)), "missing '%s'", needle)

int main(void) {
    const char *shared = test_shared_data();
    char path[600];
    if (shared) snprintf(path, sizeof path, "%s/spider/database/concert_singer/concert_singer.sqlite", shared);
    if (!shared || access(path, R_OK)) {
        printf("SKIP: Spider databases not found under SRLM_SHARED_DATA\n");
        return TEST_SKIP;
    }
    srlm_sql_db *db = NULL;
    CHECK_OK(srlm_sql_open(path, NULL, &db));
    if (!db) return test_finish("test_sql_schema");
    char *s = NULL;
    CHECK_OK(srlm_sql_schema_text(db, 0, &s));
    HAS(s, "CREATE TABLE \"stadium\"");
    HAS(s, "CREATE TABLE \"singer\"");
    HAS(s, "CREATE TABLE \"concert\"");
    HAS(s, "CREATE TABLE \"singer_in_concert\"");
    HAS(s, "Foreign keys:\n");
    HAS(s, "concert.Stadium_ID = stadium.Stadium_ID\n");
    HAS(s, "singer_in_concert.Singer_ID = singer.Singer_ID\n");
    CHECK(s && !strstr(s, "Sample values"), "no samples asked");
    /* tables in creation order */
    CHECK(s && strstr(s, "\"stadium\"") < strstr(s, "\"singer_in_concert\""), "creation order");
    free(s);
    s = NULL;
    CHECK_OK(srlm_sql_schema_text(db, 2, &s));
    HAS(s, "Sample values (up to 2 distinct per column):\n");
    HAS(s, "-- singer.Country: 'Netherlands', 'United States'\n");
    HAS(s, "-- singer.Age: 52, 32\n");
    free(s);

    srlm_sql_prompt_opts o;
    srlm_sql_prompt_opts_default(&o);
    o.format = SRLM_SQL_FORMAT_SQLR1;
    s = NULL;
    CHECK_OK(srlm_sql_prompt_chatml(db, &o, "How many singers do we have?", "singer means a row of table singer", &s));
    HAS(s, "<|im_start|>system\n");
    HAS(s, "<|im_start|>user\nDatabase engine: SQLite\n\nDatabase schema:\nCREATE TABLE");
    HAS(s, "\nExternal knowledge: singer means a row of table singer\n");
    HAS(s, "\nQuestion: How many singers do we have?\n");
    HAS(s, "<answer>");
    HAS(s, "```sql");
    size_t n = s ? strlen(s) : 0;
    const char *tail = "<|im_end|>\n<|im_start|>assistant\n<think>\n";
    CHECK(n > strlen(tail) && !strcmp(s + n - strlen(tail), tail), "ends with the assistant turn and <think>");
    if (getenv("SRLM_TEST_VERBOSE") && s) printf("%s", s);
    free(s);

    o.format = SRLM_SQL_FORMAT_REEX;
    o.max_interactions = 7;
    s = NULL;
    CHECK_OK(srlm_sql_prompt_user(db, &o, "Name the oldest singer.", NULL, &s));
    HAS(s, "<intermediate_sql>");
    HAS(s, "<result>");
    HAS(s, "<final_sql>");
    HAS(s, "At most 7 such queries");
    CHECK(s && !strstr(s, "External knowledge"), "no evidence line without evidence");
    CHECK(s && !strstr(s, "<answer>"), "no SQL-R1 tags in the ReEx prompt");
    free(s);
    s = NULL;
    CHECK_OK(srlm_sql_prompt_user(db, &o, "q", "", &s));
    CHECK(s && !strstr(s, "External knowledge"), "empty evidence adds nothing");
    free(s);
    srlm_sql_close(db);
    return test_finish("test_sql_schema");
}
