/* Bad input through the C API: NULL handles, strings and out-parameters,
 * invalid UTF-8, bad and over-long names, zero and negative counts, negative
 * and too short durations, uninitialised options. Each gets its documented
 * code and a message, no out-parameter is written, and nothing reaches the
 * API server (the namespace stays empty). */
#include "testing.h"

/* Checks one row of the table: the code, a message naming the problem, no
 * HTTP status (nothing was sent). */
static void check_case(konductor_result expected, konductor_result actual, const char *call, int line) {
    if (!testing_expect_result(expected, actual, call, __FILE__, line)) {
        return;
    }
    testing_checks++;
    if (konductor_last_error()[0] == '\0' || konductor_last_error_status() != 0) {
        fprintf(stderr, "%s:%d: FAILED: %s: expected a message and no HTTP status, got \"%s\" (%u)\n",
                __FILE__, line, call, konductor_last_error(), (unsigned)konductor_last_error_status());
        testing_failures++;
    }
}

#define CASE(expected, call) check_case((expected), (call), #call, __LINE__)

static konductor_client *client;
static konductor_options options;
static konductor_cancel *cancel;
static konductor_permit *permit_out;
static konductor_lease *lease_out;
static konductor_client *client_out;
static char *json_out;
static const char *string_out;
static bool bool_out;
static uint64_t u64_out;
static int64_t i64_out;
static size_t len_out;
static konductor_gate_condition_status *statuses_out;

static int callback_permit(const konductor_permit *permit, void *user_data) {
    (void)permit;
    (void)user_data;
    return 0;
}

static int callback_lease(const konductor_lease *lease, void *user_data) {
    (void)lease;
    (void)user_data;
    return 0;
}

static int callback_leader(const konductor_leadership *leadership, void *user_data) {
    (void)leadership;
    (void)user_data;
    return 0;
}

static int callback_barrier(void *user_data) {
    (void)user_data;
    return 0;
}

static void null_handles(void) {
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_options_init(NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_cancel_new(NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_cancel_trigger(NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_cancel_is_triggered(NULL, &bool_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_namespace(NULL, &string_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_in_namespace(NULL, "x", &client_out));

    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_create(NULL, "s", 1, 0, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_get(NULL, "s", &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_list(NULL, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_delete(NULL, "s"));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_acquire(NULL, "s", &options, &permit_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_try_acquire(NULL, "s", &options, &permit_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_with(NULL, "s", &options, callback_permit, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_permit_name(NULL, &string_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_permit_holder(NULL, &string_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_permit_token(NULL, &u64_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_permit_ttl_ms(NULL, &i64_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_permit_expires_at_ms(NULL, &i64_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_permit_is_lost(NULL, &bool_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_permit_lost_cancel(NULL, &cancel));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_permit_renew(NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_permit_release(NULL));

    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_create(NULL, "l", 0, KONDUCTOR_PRIORITY_DEFAULT, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_get(NULL, "l", &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_list(NULL, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_delete(NULL, "l"));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_acquire(NULL, "l", &options, &lease_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_try_acquire(NULL, "l", &options, &lease_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_with(NULL, "l", &options, callback_lease, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_name(NULL, &string_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_holder(NULL, &string_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_token(NULL, &u64_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_ttl_ms(NULL, &i64_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_expires_at_ms(NULL, &i64_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_is_lost(NULL, &bool_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_lost_cancel(NULL, &cancel));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_renew(NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_release(NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_run_as_leader(NULL, "l", &options, callback_leader, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_leadership_is_leader(NULL, &bool_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_leadership_token(NULL, &u64_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_leadership_holder(NULL, &string_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_leadership_sleep(NULL, 1, &bool_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_leadership_lost_cancel(NULL, &cancel));

    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_barrier_create(NULL, "b", 1, 0, 0, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_barrier_get(NULL, "b", &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_barrier_list(NULL, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_barrier_delete(NULL, "b"));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_barrier_arrive(NULL, "b", &options, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_barrier_wait(NULL, "b", &options));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_barrier_with(NULL, "b", &options, callback_barrier, NULL));

    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_gate_create(NULL, "g", NULL, 0, 0, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_gate_get(NULL, "g", &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_gate_list(NULL, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_gate_delete(NULL, "g"));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_gate_check(NULL, "g", &bool_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_gate_wait(NULL, "g", &options));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_gate_conditions(NULL, "g", &statuses_out, &len_out));
    EXPECT_LAST_ERROR_CONTAINS("`client`"); /* the message names the argument */
}

static void null_strings_and_outputs(void) {
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_in_namespace(client, NULL, &client_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_create(client, NULL, 1, 0, &json_out));
    EXPECT_LAST_ERROR_CONTAINS("`name`");
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_get(client, NULL, &json_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_delete(client, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_acquire(client, NULL, &options, &permit_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_create(client, NULL, 0, 0, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_try_acquire(client, NULL, &options, &lease_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_barrier_arrive(client, NULL, &options, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_barrier_wait(client, NULL, &options));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_gate_wait(client, NULL, &options));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_gate_check(client, NULL, &bool_out));

    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_get(client, "s", NULL));
    EXPECT_LAST_ERROR_CONTAINS("`out_json`");
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_list(client, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_acquire(client, "s", &options, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_acquire(client, "l", &options, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_gate_check(client, "g", NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_gate_conditions(client, "g", NULL, &len_out));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_gate_conditions(client, "g", &statuses_out, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_namespace(client, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_from_kubeconfig("/dev/null", NULL, NULL, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_new(NULL, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_client_in_cluster(NULL, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_cancel_is_triggered(cancel, NULL));

    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_semaphore_with(client, "s", &options, NULL, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_with(client, "l", &options, NULL, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_lease_run_as_leader(client, "l", &options, NULL, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_barrier_with(client, "b", &options, NULL, NULL));
    CASE(KONDUCTOR_NULL_ARGUMENT, konductor_gate_create(client, "g", NULL, 2, 0, NULL));
}

static void invalid_utf8(void) {
    CASE(KONDUCTOR_INVALID_UTF8, konductor_semaphore_create(client, "\xff\xfe", 1, 0, &json_out));
    EXPECT_LAST_ERROR_CONTAINS("not valid UTF-8");
    CASE(KONDUCTOR_INVALID_UTF8, konductor_lease_get(client, "ab\xc3", &json_out));
    CASE(KONDUCTOR_INVALID_UTF8, konductor_barrier_delete(client, "\x80"));
    CASE(KONDUCTOR_INVALID_UTF8, konductor_gate_check(client, "g\xe2\x82", &bool_out));
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_in_namespace(client, "\xff", &client_out));
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_from_kubeconfig("/tmp/\xff", NULL, NULL, &client_out));
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_from_kubeconfig(NULL, "\xff", NULL, &client_out));
    CASE(KONDUCTOR_INVALID_UTF8, konductor_client_new("\xc0\xaf", &client_out));

    konductor_options bad = options;
    bad.holder = "holder-\xff";
    CASE(KONDUCTOR_INVALID_UTF8, konductor_semaphore_acquire(client, "s", &bad, &permit_out));
    EXPECT_LAST_ERROR_CONTAINS("options.holder");

    konductor_gate_condition condition = {.kind = KONDUCTOR_CONDITION_GATE, .name = "\xfe"};
    CASE(KONDUCTOR_INVALID_UTF8, konductor_gate_create(client, "g", &condition, 1, 0, NULL));
    EXPECT_LAST_ERROR_CONTAINS("conditions[0].name");
    condition.name = "ok";
    condition.state = "Op\xff" "en";
    CASE(KONDUCTOR_INVALID_UTF8, konductor_gate_create(client, "g", &condition, 1, 0, NULL));
}

static void invalid_names_and_holders(void) {
    char long_name[300];
    memset(long_name, 'a', 254);
    long_name[254] = '\0';
    CASE(KONDUCTOR_INVALID_NAME, konductor_semaphore_create(client, long_name, 1, 0, &json_out));
    EXPECT_LAST_ERROR_CONTAINS("at most 253");
    CASE(KONDUCTOR_INVALID_NAME, konductor_semaphore_create(client, "", 1, 0, &json_out));
    CASE(KONDUCTOR_INVALID_NAME, konductor_semaphore_get(client, "Upper", &json_out));
    CASE(KONDUCTOR_INVALID_NAME, konductor_lease_acquire(client, "has space", &options, &lease_out));
    CASE(KONDUCTOR_INVALID_NAME, konductor_barrier_arrive(client, "-dash", &options, &json_out));
    CASE(KONDUCTOR_INVALID_NAME, konductor_gate_wait(client, "under_score", &options));
    CASE(KONDUCTOR_INVALID_NAME, konductor_lease_delete(client, "a..b"));

    konductor_gate_condition condition = {.kind = KONDUCTOR_CONDITION_BARRIER, .name = "Bad_Name"};
    CASE(KONDUCTOR_INVALID_NAME, konductor_gate_create(client, "g", &condition, 1, 0, NULL));
    condition.name = "fine";
    condition.object_namespace = "Bad.Namespace";
    CASE(KONDUCTOR_INVALID_NAMESPACE, konductor_gate_create(client, "g", &condition, 1, 0, NULL));

    char long_namespace[80];
    memset(long_namespace, 'n', 64);
    long_namespace[64] = '\0';
    CASE(KONDUCTOR_INVALID_NAMESPACE, konductor_client_in_namespace(client, long_namespace, &client_out));

    konductor_options bad = options;
    bad.holder = "";
    CASE(KONDUCTOR_INVALID_HOLDER, konductor_semaphore_acquire(client, "s", &bad, &permit_out));
    bad.holder = "two words";
    CASE(KONDUCTOR_INVALID_HOLDER, konductor_lease_try_acquire(client, "l", &bad, &lease_out));
    memset(long_name, 'h', 254);
    bad.holder = long_name;
    CASE(KONDUCTOR_INVALID_HOLDER, konductor_barrier_arrive(client, "b", &bad, &json_out));
}

static void invalid_counts(void) {
    CASE(KONDUCTOR_INVALID_COUNT, konductor_semaphore_create(client, "s", 0, 0, &json_out));
    EXPECT_LAST_ERROR_CONTAINS("permits is 0");
    CASE(KONDUCTOR_INVALID_COUNT, konductor_semaphore_create(client, "s", -1, 0, &json_out));
    CASE(KONDUCTOR_INVALID_COUNT, konductor_barrier_create(client, "b", 0, 0, 0, &json_out));
    CASE(KONDUCTOR_INVALID_COUNT, konductor_barrier_create(client, "b", -5, 0, 0, &json_out));
    CASE(KONDUCTOR_INVALID_COUNT, konductor_barrier_create(client, "b", 2, -1, 0, &json_out));
    CASE(KONDUCTOR_INVALID_COUNT, konductor_barrier_create(client, "b", 2, 3, 0, &json_out));
}

static void invalid_durations_and_options(void) {
    CASE(KONDUCTOR_INVALID_DURATION, konductor_semaphore_create(client, "s", 1, -1, &json_out));
    EXPECT_LAST_ERROR_CONTAINS("ttl_ms is -1");
    CASE(KONDUCTOR_INVALID_DURATION, konductor_lease_create(client, "l", -100, 0, &json_out));
    CASE(KONDUCTOR_INVALID_DURATION, konductor_barrier_create(client, "b", 1, 0, -1, &json_out));
    CASE(KONDUCTOR_INVALID_DURATION, konductor_gate_create(client, "g", NULL, 0, -1, &json_out));

    konductor_options bad = options;
    bad.ttl_ms = -5;
    CASE(KONDUCTOR_INVALID_DURATION, konductor_semaphore_acquire(client, "s", &bad, &permit_out));
    bad.ttl_ms = 50; /* under the 100 ms minimum */
    CASE(KONDUCTOR_INVALID_DURATION, konductor_lease_acquire(client, "l", &bad, &lease_out));
    bad.ttl_ms = 0;
    bad.timeout_ms = -2;
    CASE(KONDUCTOR_INVALID_DURATION, konductor_gate_wait(client, "g", &bad));
    EXPECT_LAST_ERROR_CONTAINS("KONDUCTOR_WAIT_FOREVER");

    bad = options;
    bad.struct_size = 0; /* not initialised with konductor_options_init */
    CASE(KONDUCTOR_INVALID_OPTIONS, konductor_semaphore_acquire(client, "s", &bad, &permit_out));
    bad.struct_size = offsetof(konductor_options, auto_renew); /* smaller than any version */
    CASE(KONDUCTOR_INVALID_OPTIONS, konductor_barrier_wait(client, "b", &bad));
    bad.struct_size = 1u << 20; /* no version is that large: uninitialised memory */
    CASE(KONDUCTOR_INVALID_OPTIONS, konductor_gate_wait(client, "g", &bad));
    EXPECT_LAST_ERROR_CONTAINS("struct_size is 1048576");

    konductor_gate_condition condition = {.kind = 0, .name = "x"};
    CASE(KONDUCTOR_INVALID_ARGUMENT, konductor_gate_create(client, "g", &condition, 1, 0, NULL));
    condition.kind = 42;
    CASE(KONDUCTOR_INVALID_ARGUMENT, konductor_gate_create(client, "g", &condition, 1, 0, NULL));
    EXPECT_LAST_ERROR_CONTAINS("kind is 42");
}

int main(void) {
    client = testing_client();
    REQUIRE_OK(konductor_options_init(&options));
    options.timeout_ms = 0;
    REQUIRE_OK(konductor_cancel_new(&cancel));
    konductor_cancel *cancel_before = cancel;

    null_handles();
    null_strings_and_outputs();
    invalid_utf8();
    invalid_names_and_holders();
    invalid_counts();
    invalid_durations_and_options();

    /* No out-parameter was written by a failing call. */
    EXPECT_TRUE(permit_out == NULL && lease_out == NULL && client_out == NULL && json_out == NULL);
    EXPECT_TRUE(string_out == NULL && !bool_out && u64_out == 0 && i64_out == 0 && len_out == 0);
    EXPECT_TRUE(statuses_out == NULL && cancel == cancel_before);

    /* Nothing reached the API server. */
    char *json = NULL;
    REQUIRE_OK(konductor_semaphore_list(client, &json));
    EXPECT_STR_EQ("[]", json);
    konductor_string_free(json);
    REQUIRE_OK(konductor_barrier_list(client, &json));
    EXPECT_STR_EQ("[]", json);
    konductor_string_free(json);

    /* The frees accept NULL. */
    konductor_client_free(NULL);
    konductor_permit_free(NULL);
    konductor_lease_free(NULL);
    konductor_cancel_free(NULL);
    konductor_string_free(NULL);
    konductor_gate_conditions_free(NULL, 3);

    konductor_cancel_free(cancel);
    konductor_client_free(client);
    testing_finish("test_bad_input");
}
