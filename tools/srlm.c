/* srlm.c: the command-line entry point; a table of subcommands, each in tools/cmd_*.c.
 * Only the CLI prints and exits; the library returns errors. */
#include "cli.h"

#include <string.h>

int cmd_init(int argc, char **argv);

int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_forward(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_teacher(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_sql(int argc, char **argv);

static int cmd_version(int argc, char **argv) {
    (void)argc; (void)argv;
    printf("srlm %s\n", SRLM_VERSION);
    return 0;
}



static const cli_command commands[] = {
    {"version", "print the version", cmd_version},
    {"info", "list Vulkan devices and what srlm uses of them", cmd_info},
    {"bench", "benchmarks: ops | membw | matmul | decode | prefill | tokenizer | tree", cmd_bench},
    {"init", "write a randomly initialised model folder from a preset", cmd_init},
    {"train", "train a model: sft | kd | pretrain (MEAP, distillation, checkpoints, resume)", cmd_train},
    {"teacher", "store a teacher's top-k logits per position for `train kd --teacher-logits`", cmd_teacher},
    {"plot", "line chart of a run database's metrics as PNG", cmd_plot},
    {"tokenize", "print the token ids of a text (or --decode ids)", cmd_tokenize},
    {"forward", "logits of every position as float32 [T, V]", cmd_forward},
    {"generate", "stream a continuation of a prompt", cmd_generate},
    {"chat", "interactive chat with history", cmd_chat},
    {"perplexity", "perplexity of a text file", cmd_perplexity},
    {"query", "run one SQL statement in the read-only sandbox", cmd_query},
    {"eval", "execution accuracy of SQL predictions (Spider / BIRD rules)", cmd_eval},
    {"sql", "answer a question about a SQLite database (execution-aware decoding)", cmd_sql},
};

static void usage(FILE *f) {
    fprintf(f, "srlm %s: run and train small language models on any Vulkan device\n\n"
               "usage: srlm <command> [options]\n\ncommands:\n", SRLM_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\ncommon options: -m/--model PATH, --device N, --seed S, --mem-budget SIZE\n"
               "environment: SRLM_DEVICE, SRLM_VALIDATE=1, SRLM_PROFILE=1, SRLM_MEM_BUDGET\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("srlm %s\n", SRLM_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "srlm: unknown command '%s' (try srlm --help)\n", argv[1]);
    return 2;
}
