/* test_status.c: error values carry code and message; wrapping prepends context. */
#include "test.h"

int main(void) {
    srlm_status st = srlm_errorf(SRLM_ERR_FORMAT, "tensor %s has %d dims", "wq", 3);
    CHECK(srlm_status_code(st) == SRLM_ERR_FORMAT, "code %d", srlm_status_code(st));
    CHECK(!strcmp(srlm_status_msg(st), "tensor wq has 3 dims"), "msg '%s'", srlm_status_msg(st));
    st = srlm_status_wrap(st, "loading %s: ", "model.safetensors");
    CHECK(!strcmp(srlm_status_msg(st), "loading model.safetensors: tensor wq has 3 dims"), "msg '%s'", srlm_status_msg(st));
    srlm_status_free(st);
    CHECK(srlm_status_code(NULL) == SRLM_OK, "NULL is ok");
    CHECK(srlm_status_wrap(NULL, "x") == NULL, "wrapping success stays success");
    srlm_status_free(NULL);
    return test_finish("test_status");
}
