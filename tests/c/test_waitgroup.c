/* Wait groups through the C API, against the real control plane: create,
 * add, done once per holder, the below-zero code, wait blocking until zero
 * (timeout, then success from another thread's done), and a wait group as a
 * gate condition. */
#include "testing.h"

#include <pthread.h>

static void create_add_done(konductor_client *client) {
    char *json = NULL;
    REQUIRE_OK(konductor_client_create_waitgroup(client, "shards", 2, 3600000, &json));
    EXPECT_TRUE(strstr(json, "\"kind\":\"WaitGroup\"") != NULL);
    EXPECT_TRUE(strstr(json, "\"expected\":2") != NULL);
    EXPECT_TRUE(strstr(json, "\"ttl\":\"1h0m0s\"") != NULL);
    konductor_string_free(json);
    EXPECT_RESULT(KONDUCTOR_ALREADY_EXISTS, konductor_client_create_waitgroup(client, "shards", 1, 0, NULL));
    EXPECT_RESULT(KONDUCTOR_INVALID_COUNT, konductor_client_create_waitgroup(client, "neg", -1, 0, NULL));
    EXPECT_RESULT(KONDUCTOR_INVALID_COUNT, konductor_client_create_waitgroup(client, "huge", 10001, 0, NULL));
    EXPECT_RESULT(KONDUCTOR_INVALID_DURATION, konductor_client_create_waitgroup(client, "bad-ttl", 1, -5, NULL));
    EXPECT_RESULT(KONDUCTOR_INVALID_COUNT, konductor_client_add_waitgroup(client, "shards", 0, NULL, NULL));
    EXPECT_RESULT(KONDUCTOR_INVALID_COUNT, konductor_client_add_waitgroup(client, "shards", -3, NULL, NULL));
    EXPECT_RESULT(KONDUCTOR_INVALID_COUNT, konductor_client_add_waitgroup(client, "shards", 1999, NULL, NULL));
    EXPECT_LAST_ERROR_CONTAINS("over 2000");

    REQUIRE_OK(konductor_client_add_waitgroup(client, "shards", 1, NULL, &json));
    EXPECT_TRUE(strstr(json, "\"counter\":3") != NULL);
    konductor_string_free(json);

    konductor_options a = testing_options("c-shard-a", 5000);
    REQUIRE_OK(konductor_client_done_waitgroup(client, "shards", &a, NULL));
    /* A retried done of the same holder counts once. */
    REQUIRE_OK(konductor_client_done_waitgroup(client, "shards", &a, &json));
    EXPECT_TRUE(strstr(json, "\"counter\":2") != NULL);
    konductor_string_free(json);
    konductor_options b = testing_options("c-shard-b", 5000);
    konductor_options c = testing_options("c-shard-c", 5000);
    REQUIRE_OK(konductor_client_done_waitgroup(client, "shards", &b, NULL));
    REQUIRE_OK(konductor_client_done_waitgroup(client, "shards", &c, NULL));
    konductor_options d = testing_options("c-shard-d", 5000);
    EXPECT_RESULT(KONDUCTOR_BELOW_ZERO, konductor_client_done_waitgroup(client, "shards", &d, NULL));
    EXPECT_LAST_ERROR_CONTAINS("c-shard-d");
    EXPECT_LAST_ERROR_CONTAINS("below zero");
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_done_waitgroup(client, "missing", &d, NULL));

    REQUIRE_OK(konductor_client_list(client, KONDUCTOR_KIND_WAITGROUP, &json));
    EXPECT_TRUE(strstr(json, "\"shards\"") != NULL);
    konductor_string_free(json);
    REQUIRE_OK(konductor_client_delete(client, KONDUCTOR_KIND_WAITGROUP, "shards"));
}

struct worker {
    konductor_client *client;
    konductor_result result;
};

static void *finish_shard(void *arg) {
    struct worker *worker = arg;
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    konductor_options options = testing_options("c-late-shard", 5000);
    worker->result = konductor_client_done_waitgroup(worker->client, "late", &options, NULL);
    return NULL;
}

static void wait_until_zero(konductor_client *client) {
    REQUIRE_OK(konductor_client_create_waitgroup(client, "late", 1, 0, NULL));
    konductor_options waiting = testing_options("c-coordinator", 200);
    EXPECT_RESULT(KONDUCTOR_TIMEOUT, konductor_client_wait(client, KONDUCTOR_KIND_WAITGROUP, "late", &waiting));
    struct worker worker = {.client = client, .result = KONDUCTOR_INTERNAL};
    pthread_t thread;
    EXPECT_TRUE(pthread_create(&thread, NULL, finish_shard, &worker) == 0);
    waiting.timeout_ms = 10000;
    REQUIRE_OK(konductor_client_wait(client, KONDUCTOR_KIND_WAITGROUP, "late", &waiting));
    pthread_join(thread, NULL);
    EXPECT_RESULT(KONDUCTOR_OK, worker.result);
    konductor_held *held = NULL;
    EXPECT_RESULT(KONDUCTOR_INVALID_ARGUMENT,
                  konductor_client_acquire(client, KONDUCTOR_KIND_WAITGROUP, "late", &waiting, &held));
}

static void as_gate_condition(konductor_client *client) {
    konductor_gate_condition condition = {
        .kind = KONDUCTOR_CONDITION_WAITGROUP, .name = "late", .state = "Done"};
    REQUIRE_OK(konductor_client_create_gate(client, "after-late", &condition, 1, 0, NULL));
    char *json = NULL;
    REQUIRE_OK(konductor_client_get(client, KONDUCTOR_KIND_GATE, "after-late", &json));
    EXPECT_TRUE(strstr(json, "\"type\":\"WaitGroup\"") != NULL);
    konductor_string_free(json);
}

int main(void) {
    konductor_client *client = testing_client();
    create_add_done(client);
    wait_until_zero(client);
    as_gate_condition(client);
    konductor_client_free(client);
    testing_finish("test_waitgroup");
}
