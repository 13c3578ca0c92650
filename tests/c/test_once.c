/* Onces through the C API, against the real control plane: the callback
 * runs in exactly one of several threads, the others learn it is done; a
 * failed run is recorded and final unless retries were asked for. */
#include "testing.h"

#include <pthread.h>

struct shared {
    konductor_client *client;
    const char *name;
    int runs;
    pthread_mutex_t lock;
};

struct caller {
    struct shared *shared;
    char holder[32];
    konductor_result result;
    bool ran;
};

static int count_run(uint64_t token, void *user_data) {
    struct shared *shared = user_data;
    pthread_mutex_lock(&shared->lock);
    shared->runs++;
    pthread_mutex_unlock(&shared->lock);
    testing_sleep_ms(300);
    return token >= 1 ? 0 : 99;
}

static void *call(void *arg) {
    struct caller *caller = arg;
    konductor_options options = testing_options(caller->holder, 30000);
    caller->result = konductor_client_do_once(caller->shared->client, caller->shared->name, &options,
                                              count_run, caller->shared, &caller->ran);
    return NULL;
}

static void runs_once_among_threads(konductor_client *client) {
    char *json = NULL;
    REQUIRE_OK(konductor_client_create_once(client, "init", 30000, false, &json));
    EXPECT_TRUE(strstr(json, "\"kind\":\"Once\"") != NULL);
    konductor_string_free(json);
    EXPECT_RESULT(KONDUCTOR_ALREADY_EXISTS, konductor_client_create_once(client, "init", 0, false, NULL));
    EXPECT_RESULT(KONDUCTOR_INVALID_DURATION, konductor_client_create_once(client, "bad", -3, false, NULL));

    struct shared shared = {.client = client, .name = "init"};
    pthread_mutex_init(&shared.lock, NULL);
    struct caller callers[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        callers[i] = (struct caller){.shared = &shared};
        snprintf(callers[i].holder, sizeof callers[i].holder, "c-once-%d", i);
        pthread_create(&threads[i], NULL, call, &callers[i]);
    }
    int ran = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        EXPECT_RESULT(KONDUCTOR_OK, callers[i].result);
        ran += callers[i].ran;
    }
    EXPECT_TRUE(shared.runs == 1 && ran == 1);
    pthread_mutex_destroy(&shared.lock);

    REQUIRE_OK(konductor_client_get(client, KONDUCTOR_KIND_ONCE, "init", &json));
    EXPECT_TRUE(strstr(json, "\"phase\":\"Done\"") != NULL);
    konductor_string_free(json);
    REQUIRE_OK(konductor_client_delete(client, KONDUCTOR_KIND_ONCE, "init"));
    konductor_options options = testing_options("c-once-late", 1000);
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND,
                  konductor_client_do_once(client, "init", &options, count_run, &shared, NULL));
    EXPECT_RESULT(KONDUCTOR_NULL_ARGUMENT,
                  konductor_client_do_once(client, "init", &options, NULL, NULL, NULL));
}

static int fail_with_7(uint64_t token, void *user_data) {
    (void)token;
    (*(int *)user_data)++;
    return 7;
}

static int succeed(uint64_t token, void *user_data) {
    (void)token;
    (*(int *)user_data)++;
    return 0;
}

static void failures(konductor_client *client) {
    konductor_options options = testing_options("c-once-fail", 5000);
    int calls = 0;
    bool ran = false;
    REQUIRE_OK(konductor_client_create_once(client, "final", 0, false, NULL));
    EXPECT_RESULT(KONDUCTOR_CALLBACK_FAILED,
                  konductor_client_do_once(client, "final", &options, fail_with_7, &calls, &ran));
    EXPECT_RESULT(KONDUCTOR_FAILED, konductor_client_do_once(client, "final", &options, succeed, &calls, &ran));
    EXPECT_LAST_ERROR_CONTAINS("the callback returned 7");
    EXPECT_TRUE(calls == 1);

    REQUIRE_OK(konductor_client_create_once(client, "retried", 0, true, NULL));
    EXPECT_RESULT(KONDUCTOR_CALLBACK_FAILED,
                  konductor_client_do_once(client, "retried", &options, fail_with_7, &calls, &ran));
    REQUIRE_OK(konductor_client_do_once(client, "retried", &options, succeed, &calls, &ran));
    EXPECT_TRUE(ran && calls == 3);
    REQUIRE_OK(konductor_client_do_once(client, "retried", &options, succeed, &calls, &ran));
    EXPECT_TRUE(!ran && calls == 3);
}

int main(void) {
    konductor_client *client = testing_client();
    runs_once_among_threads(client);
    failures(client);
    konductor_client_free(client);
    testing_finish("test_once");
}
