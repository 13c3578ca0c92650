/* Gates through the C API, against the real control plane: every gate
 * function, its success and its error codes. The operator is not running, so
 * the test evaluates the gates itself by writing their status as it would. */
#include "testing.h"

#include <pthread.h>

static void create_get_list_delete(konductor_client *client) {
    konductor_gate_condition conditions[] = {
        {.kind = KONDUCTOR_CONDITION_SEMAPHORE, .name = "gpu", .has_value = true, .value = 2},
        {.kind = KONDUCTOR_CONDITION_JOB, .name = "build", .object_namespace = "ci", .state = "Complete"},
        {.kind = KONDUCTOR_CONDITION_BARRIER, .name = "stage-1", .state = "Open"},
    };
    char *json = NULL;
    REQUIRE_OK(konductor_client_create_gate(client, "deploy", conditions, 3, 300000, &json));
    EXPECT_TRUE(strstr(json, "{\"type\":\"Semaphore\",\"name\":\"gpu\",\"value\":2}") != NULL);
    EXPECT_TRUE(strstr(json, "{\"type\":\"Job\",\"name\":\"build\",\"namespace\":\"ci\",\"state\":\"Complete\"}") != NULL);
    EXPECT_TRUE(strstr(json, "\"timeout\":\"5m0s\"") != NULL);
    konductor_string_free(json);

    /* With no conditions the array may be NULL; whether a gate without
     * conditions is valid is the CRD schema's call (422 if not). */
    konductor_result empty = konductor_client_create_gate(client, "empty", NULL, 0, 0, NULL);
    testing_checks++;
    if (empty != KONDUCTOR_OK && !(empty == KONDUCTOR_API && konductor_last_error_status() == 422)) {
        FAIL_AT("expected KONDUCTOR_OK or a 422 from the API server, got %s: %s", konductor_result_name(empty),
                konductor_last_error());
    }
    /* The CRD's schema rejects a negative semaphore value: the API server's
     * own validation message comes through. */
    konductor_gate_condition negative = {.kind = KONDUCTOR_CONDITION_SEMAPHORE, .name = "gpu", .has_value = true, .value = -1};
    EXPECT_RESULT(KONDUCTOR_API, konductor_client_create_gate(client, "negative", &negative, 1, 0, NULL));
    EXPECT_TRUE(konductor_last_error_status() == 422);
    EXPECT_LAST_ERROR_CONTAINS("spec.conditions[0].value");

    REQUIRE_OK(konductor_client_create_gate(client, "one", conditions, 1, 0, NULL));
    EXPECT_RESULT(KONDUCTOR_ALREADY_EXISTS, konductor_client_create_gate(client, "one", conditions, 1, 0, NULL));

    REQUIRE_OK(konductor_client_get(client, KONDUCTOR_KIND_GATE, "deploy", &json));
    EXPECT_TRUE(strstr(json, "\"kind\":\"Gate\"") != NULL);
    konductor_string_free(json);
    REQUIRE_OK(konductor_client_list(client, KONDUCTOR_KIND_GATE, &json));
    EXPECT_TRUE(strstr(json, "\"deploy\"") != NULL && strstr(json, "\"one\"") != NULL);
    konductor_string_free(json);

    REQUIRE_OK(konductor_client_delete(client, KONDUCTOR_KIND_GATE, "one"));
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_delete(client, KONDUCTOR_KIND_GATE, "one"));
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_get(client, KONDUCTOR_KIND_GATE, "one", &json));
}

static void closed_gate(konductor_client *client) {
    bool open = true;
    REQUIRE_OK(konductor_client_check_gate(client, "deploy", &open));
    EXPECT_TRUE(!open);

    /* Not evaluated yet: an empty array, written as NULL and 0. */
    konductor_gate_condition_status *statuses = (void *)&open;
    size_t len = 99;
    REQUIRE_OK(konductor_client_gate_conditions(client, "deploy", &statuses, &len));
    EXPECT_TRUE(statuses == NULL && len == 0);
    konductor_gate_condition_status_free(statuses, len);

    konductor_options options;
    konductor_options_init(&options);
    options.timeout_ms = 200;
    EXPECT_RESULT(KONDUCTOR_TIMEOUT, konductor_client_wait(client, KONDUCTOR_KIND_GATE, "deploy", &options));

    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_check_gate(client, "no-such", &open));
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_gate_conditions(client, "no-such", &statuses, &len));
    EXPECT_RESULT(KONDUCTOR_NOT_FOUND, konductor_client_wait(client, KONDUCTOR_KIND_GATE, "no-such", &options));
}

struct waiter {
    konductor_client *client;
    konductor_result result;
};

static void *wait_for_deploy(void *argument) {
    struct waiter *waiter = argument;
    waiter->result = konductor_client_wait(waiter->client, KONDUCTOR_KIND_GATE, "deploy", NULL);
    return NULL;
}

static void opened_gate(konductor_client *client) {
    struct waiter waiter = {client, KONDUCTOR_PANIC};
    pthread_t thread;
    pthread_create(&thread, NULL, wait_for_deploy, &waiter);
    testing_sleep_ms(200);

    int status = testing_kubectl(
        "patch gates.sync.konductor.io deploy --subresource=status --type=merge -p '{\"status\":{"
        "\"phase\":\"Open\",\"conditionStatuses\":["
        "{\"type\":\"Semaphore\",\"name\":\"gpu\",\"met\":true,\"message\":\"2 of 2 available\"},"
        "{\"type\":\"Job\",\"name\":\"build\",\"namespace\":\"ci\",\"met\":true},"
        "{\"type\":\"Barrier\",\"name\":\"stage-1\",\"met\":true,\"message\":\"open\"}]}}'");
    EXPECT_TRUE(status == 0);
    pthread_join(thread, NULL);
    EXPECT_RESULT(KONDUCTOR_OK, waiter.result);

    bool open = false;
    REQUIRE_OK(konductor_client_check_gate(client, "deploy", &open));
    EXPECT_TRUE(open);

    konductor_gate_condition_status *statuses = NULL;
    size_t len = 0;
    REQUIRE_OK(konductor_client_gate_conditions(client, "deploy", &statuses, &len));
    EXPECT_TRUE(len == 3);
    if (len == 3) {
        EXPECT_TRUE(statuses[0].kind == KONDUCTOR_CONDITION_SEMAPHORE && statuses[0].met);
        EXPECT_STR_EQ("gpu", statuses[0].name);
        EXPECT_TRUE(statuses[0].object_namespace == NULL);
        EXPECT_STR_EQ("2 of 2 available", statuses[0].message);
        EXPECT_TRUE(statuses[1].kind == KONDUCTOR_CONDITION_JOB);
        EXPECT_STR_EQ("ci", statuses[1].object_namespace);
        EXPECT_STR_EQ("", statuses[1].message);
        EXPECT_TRUE(statuses[2].kind == KONDUCTOR_CONDITION_BARRIER);
    }
    konductor_gate_condition_status_free(statuses, len);
    konductor_gate_condition_status_free(NULL, 0);
}

static void failed_gate(konductor_client *client) {
    konductor_gate_condition condition = {.kind = KONDUCTOR_CONDITION_LEASE, .name = "leader", .state = "Acquired"};
    REQUIRE_OK(konductor_client_create_gate(client, "doomed", &condition, 1, 1000, NULL));
    EXPECT_TRUE(testing_kubectl("patch gates.sync.konductor.io doomed --subresource=status --type=merge "
                                "-p '{\"status\":{\"phase\":\"Failed\",\"message\":\"not open after 1s\"}}'") == 0);
    EXPECT_RESULT(KONDUCTOR_FAILED, konductor_client_wait(client, KONDUCTOR_KIND_GATE, "doomed", NULL));
    EXPECT_LAST_ERROR_CONTAINS("not open after 1s");
    bool open = true;
    REQUIRE_OK(konductor_client_check_gate(client, "doomed", &open));
    EXPECT_TRUE(!open);
}

static void cancelled_wait(konductor_client *client) {
    konductor_cancel *cancel = NULL;
    REQUIRE_OK(konductor_cancel_new(&cancel));
    REQUIRE_OK(konductor_cancel_trigger(cancel));
    konductor_options options;
    konductor_options_init(&options);
    options.cancel = cancel;
    konductor_gate_condition condition = {.kind = KONDUCTOR_CONDITION_GATE, .name = "deploy", .state = "Open"};
    REQUIRE_OK(konductor_client_create_gate(client, "shut", &condition, 1, 0, NULL));
    EXPECT_RESULT(KONDUCTOR_CANCELLED, konductor_client_wait(client, KONDUCTOR_KIND_GATE, "shut", &options));
    konductor_cancel_free(cancel);
}

int main(void) {
    konductor_client *client = testing_client();
    create_get_list_delete(client);
    closed_gate(client);
    cancelled_wait(client);
    opened_gate(client);
    failed_gate(client);
    konductor_client_free(client);
    testing_finish("test_gate");
}
