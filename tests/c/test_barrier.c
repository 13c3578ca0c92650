/* Barriers through the C API, against the real control plane: every barrier
 * function, its success and its error codes. The operator is not running, so
 * the test fails a barrier itself by writing its status as the operator would. */
#include "testing.h"

#include <pthread.h>

static void create_get_list_delete(konductor_client *client) {
    char *json = NULL;
    REQUIRE_OK(konductor_client_create_barrier(client, "stage-1", 2, 0, 0, &json));
    EXPECT_TRUE(strstr(json, "\"expected\":2") != NULL);
    EXPECT_TRUE(strstr(json, "\"quorum\"") == NULL && strstr(json, "\"timeout\"") == NULL);
    konductor_string_free(json);
    REQUIRE_OK(konductor_client_create_barrier(client, "quorate", 3, 2, 600000, &json));
    EXPECT_TRUE(strstr(json, "\"quorum\":2") != NULL && strstr(json, "\"timeout\":\"10m0s\"") != NULL);
    konductor_string_free(json);
    EXPECT_RESULT(KONDUCTOR_ALREADY_EXISTS, konductor_client_create_barrier(client, "quorate", 3, 2, 0, NULL));

    REQUIRE_OK(konductor_client_get(client, KONDUCTOR_KIND_BARRIER, "stage-1", &json));
    EXPECT_TRUE(strstr(json, "\"kind\":\"Barrier\"") != NULL);
    konductor_string_free(json);
    REQUIRE_OK(konductor_client_list(client, KONDUCTOR_KIND_BARRIER, &json));
    EXPECT_TRUE(strstr(json, "\"stage-1\"") != NULL && strstr(json, "\"quorate\"") != NULL);
    konductor_string_free(json);

    REQUIRE_OK(konductor_client_create_barrier(client, "doomed", 1, 0, 0, NULL));
    REQUIRE_OK(konductor_client_delete(client, KONDUCTOR_KIND_BARRIER, "doomed"));
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_delete(client, KONDUCTOR_KIND_BARRIER, "doomed"));
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_get(client, KONDUCTOR_KIND_BARRIER, "doomed", &json));
}

static void arrive_and_wait(konductor_client *client) {
    /* An arrival is bounded by the timeout too: only the wait gets a short one. */
    konductor_options first = testing_options("c-first", KONDUCTOR_WAIT_FOREVER);
    char *json = NULL;
    REQUIRE_OK(konductor_client_arrive_barrier(client, "stage-1", &first, &json));
    EXPECT_TRUE(strstr(json, "\"arrived\":1") != NULL && strstr(json, "\"phase\":\"Waiting\"") != NULL);
    konductor_string_free(json);
    konductor_options briefly = testing_options("c-first", 200);
    EXPECT_RESULT(KONDUCTOR_TIMEOUT, konductor_client_wait(client, KONDUCTOR_KIND_BARRIER, "stage-1", &briefly));

    /* Arriving twice counts once. */
    REQUIRE_OK(konductor_client_arrive_barrier(client, "stage-1", &first, &json));
    EXPECT_TRUE(strstr(json, "\"arrived\":1") != NULL);
    konductor_string_free(json);

    konductor_options second = testing_options("c-second", KONDUCTOR_WAIT_FOREVER);
    REQUIRE_OK(konductor_client_arrive_barrier(client, "stage-1", &second, &json));
    EXPECT_TRUE(strstr(json, "\"arrived\":2") != NULL && strstr(json, "\"phase\":\"Open\"") != NULL);
    konductor_string_free(json);
    REQUIRE_OK(konductor_client_wait(client, KONDUCTOR_KIND_BARRIER, "stage-1", &first));
    REQUIRE_OK(konductor_client_wait(client, KONDUCTOR_KIND_BARRIER, "stage-1", NULL));

    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_arrive_barrier(client, "no-such", &first, NULL));
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_wait(client, KONDUCTOR_KIND_BARRIER, "no-such", &first));
}

struct waiter {
    konductor_client *client;
    konductor_result result;
};

static void *wait_forever(void *argument) {
    struct waiter *waiter = argument;
    waiter->result = konductor_client_wait(waiter->client, KONDUCTOR_KIND_BARRIER, "quorate", NULL);
    return NULL;
}

static int count_call(void *user_data) {
    int *calls = user_data;
    return ++*calls == 1 ? 0 : 5;
}

static void quorum_and_with(konductor_client *client) {
    /* A waiter on another thread is released when the quorum arrives. */
    struct waiter waiter = {client, KONDUCTOR_PANIC};
    pthread_t thread;
    pthread_create(&thread, NULL, wait_forever, &waiter);
    testing_sleep_ms(200);
    konductor_options early = testing_options("c-early", KONDUCTOR_WAIT_FOREVER);
    REQUIRE_OK(konductor_client_arrive_barrier(client, "quorate", &early, NULL));

    int calls = 0;
    konductor_options late = testing_options("c-late", 5000);
    REQUIRE_OK(konductor_client_with_barrier(client, "quorate", &late, count_call, &calls));
    EXPECT_TRUE(calls == 1);
    pthread_join(thread, NULL);
    EXPECT_RESULT(KONDUCTOR_OK, waiter.result);

    EXPECT_RESULT(KONDUCTOR_CALLBACK_FAILED, konductor_client_with_barrier(client, "quorate", &late, count_call, &calls));
    EXPECT_TRUE(calls == 2);
    EXPECT_LAST_ERROR_CONTAINS("returned 5");
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_with_barrier(client, "no-such", &late, count_call, &calls));
    EXPECT_TRUE(calls == 2);
    EXPECT_RESULT(KONDUCTOR_NULL_ARGUMENT, konductor_client_with_barrier(client, "quorate", &late, NULL, NULL));
}

static void failed_barrier(konductor_client *client) {
    REQUIRE_OK(konductor_client_create_barrier(client, "failing", 5, 0, 1000, NULL));
    int status = testing_kubectl("patch barriers.sync.konductor.io failing --subresource=status --type=merge "
                                 "-p '{\"status\":{\"phase\":\"Failed\",\"message\":\"timeout of 1s passed\"}}'");
    EXPECT_TRUE(status == 0);
    konductor_options options = testing_options("c-too-late", KONDUCTOR_WAIT_FOREVER);
    EXPECT_RESULT(KONDUCTOR_FAILED, konductor_client_arrive_barrier(client, "failing", &options, NULL));
    EXPECT_LAST_ERROR_CONTAINS("timeout of 1s passed");
    EXPECT_RESULT(KONDUCTOR_FAILED, konductor_client_wait(client, KONDUCTOR_KIND_BARRIER, "failing", &options));
    int calls = 0;
    EXPECT_RESULT(KONDUCTOR_FAILED, konductor_client_with_barrier(client, "failing", &options, count_call, &calls));
    EXPECT_TRUE(calls == 0);
}

static void cancelled_wait(konductor_client *client) {
    REQUIRE_OK(konductor_client_create_barrier(client, "never", 9, 0, 0, NULL));
    konductor_cancel *cancel = NULL;
    REQUIRE_OK(konductor_cancel_new(&cancel));
    REQUIRE_OK(konductor_cancel_trigger(cancel));
    konductor_options options = testing_options("c-cancelled", KONDUCTOR_WAIT_FOREVER);
    options.cancel = cancel;
    EXPECT_RESULT(KONDUCTOR_CANCELLED, konductor_client_wait(client, KONDUCTOR_KIND_BARRIER, "never", &options));
    konductor_cancel_free(cancel);
}

int main(void) {
    konductor_client *client = testing_client();
    create_get_list_delete(client);
    arrive_and_wait(client);
    quorum_and_with(client);
    failed_barrier(client);
    cancelled_wait(client);
    konductor_client_free(client);
    testing_finish("test_barrier");
}
