/* Clients, configuration and the error plumbing of the C API: every way to
 * create a client, each configuration, authentication, permission and
 * transport failure, result names and messages, and the library version. */
#include "testing.h"

#include <unistd.h>

static char scratch_dir[] = "/tmp/konductor-c-client-XXXXXX";

/* Writes `text` to a file in the scratch directory and returns its path. */
static const char *scratch_file(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", scratch_dir, name);
    FILE *file = fopen(path, "w");
    if (file == NULL) {
        perror(path);
        exit(2);
    }
    fputs(text, file);
    fclose(file);
    return path;
}

static void results_and_version(void) {
    EXPECT_STR_EQ("", konductor_last_error());
    EXPECT_TRUE(konductor_last_error_status() == 0);
    EXPECT_STR_EQ("KONDUCTOR_OK", konductor_result_name(KONDUCTOR_OK));
    EXPECT_STR_EQ("KONDUCTOR_LEASE_HELD", konductor_result_name(KONDUCTOR_LEASE_HELD));
    EXPECT_STR_EQ("KONDUCTOR_PANIC", konductor_result_name(KONDUCTOR_PANIC));
    EXPECT_STR_EQ("KONDUCTOR_UNKNOWN_RESULT", konductor_result_name(12345));
    EXPECT_STR_EQ("timed out", konductor_result_message(KONDUCTOR_TIMEOUT));
    EXPECT_STR_EQ("unknown result code", konductor_result_message(7));
    static const konductor_result every_code[] = {
        KONDUCTOR_OK, KONDUCTOR_NULL_ARGUMENT, KONDUCTOR_INVALID_UTF8, KONDUCTOR_INVALID_NAME,
        KONDUCTOR_INVALID_NAMESPACE, KONDUCTOR_INVALID_HOLDER, KONDUCTOR_INVALID_COUNT,
        KONDUCTOR_INVALID_DURATION, KONDUCTOR_INVALID_OPTIONS, KONDUCTOR_INVALID_ARGUMENT,
        KONDUCTOR_NOT_FOUND, KONDUCTOR_ALREADY_HELD, KONDUCTOR_LEASE_HELD, KONDUCTOR_TIMEOUT,
        KONDUCTOR_CANCELLED, KONDUCTOR_LOST, KONDUCTOR_FAILED, KONDUCTOR_FORBIDDEN,
        KONDUCTOR_UNAUTHORIZED, KONDUCTOR_API, KONDUCTOR_ALREADY_EXISTS, KONDUCTOR_TRANSPORT,
        KONDUCTOR_CONFIG, KONDUCTOR_CALLBACK_FAILED, KONDUCTOR_PANIC, KONDUCTOR_INTERNAL,
    };
    for (size_t i = 0; i < sizeof every_code / sizeof every_code[0]; i++) {
        EXPECT_TRUE(strncmp(konductor_result_name(every_code[i]), "KONDUCTOR_", 10) == 0);
        EXPECT_TRUE(strcmp(konductor_result_name(every_code[i]), "KONDUCTOR_UNKNOWN_RESULT") != 0);
        EXPECT_TRUE(strlen(konductor_result_message(every_code[i])) > 0);
    }
    const char *version = konductor_version();
    EXPECT_TRUE(version != NULL && strchr(version, '.') != NULL);
}

static void from_kubeconfig(const char *kubeconfig, const char *ns) {
    konductor_client *client = NULL;
    const char *got = NULL;
    REQUIRE_OK(konductor_client_from_kubeconfig(kubeconfig, NULL, ns, &client));
    REQUIRE_OK(konductor_client_namespace(client, &got));
    EXPECT_STR_EQ(ns, got);
    char *json = NULL;
    REQUIRE_OK(konductor_client_list(client, KONDUCTOR_KIND_SEMAPHORE, &json));
    EXPECT_STR_EQ("[]", json);
    konductor_string_free(json);

    /* A client for another namespace shares the connection. */
    konductor_client *other = NULL;
    REQUIRE_OK(konductor_client_in_namespace(client, "elsewhere", &other));
    REQUIRE_OK(konductor_client_namespace(other, &got));
    EXPECT_STR_EQ("elsewhere", got);
    konductor_client_free(other);
    other = NULL;
    EXPECT_RESULT(KONDUCTOR_INVALID_NAMESPACE, konductor_client_in_namespace(client, "a.b", &other));
    EXPECT_TRUE(other == NULL);
    konductor_client_free(client);

    /* Without a namespace, the context's ("default" in the test kubeconfigs). */
    REQUIRE_OK(konductor_client_from_kubeconfig(kubeconfig, NULL, NULL, &client));
    REQUIRE_OK(konductor_client_namespace(client, &got));
    EXPECT_TRUE(strlen(got) > 0);
    konductor_client_free(client);

    /* NULL path: KUBECONFIG, as kubectl does; and konductor_client_new infers it. */
    setenv("KUBECONFIG", kubeconfig, 1);
    unsetenv("KUBERNETES_SERVICE_HOST");
    REQUIRE_OK(konductor_client_from_kubeconfig(NULL, NULL, ns, &client));
    konductor_client_free(client);
    REQUIRE_OK(konductor_client_new(ns, &client));
    REQUIRE_OK(konductor_client_namespace(client, &got));
    EXPECT_STR_EQ(ns, got);
    REQUIRE_OK(konductor_client_list(client, KONDUCTOR_KIND_SEMAPHORE, &json));
    konductor_string_free(json);
    konductor_client_free(client);
    konductor_client_free(NULL);
}

static void configuration_errors(const char *kubeconfig, const char *ns) {
    konductor_client *client = NULL;
    EXPECT_RESULT(KONDUCTOR_CONFIG, konductor_client_from_kubeconfig("/nonexistent/kubeconfig", NULL, ns, &client));
    EXPECT_LAST_ERROR_CONTAINS("/nonexistent/kubeconfig");
    EXPECT_TRUE(client == NULL);

    const char *garbled = scratch_file("garbled.kubeconfig", "clusters: [this is: not: valid\n");
    EXPECT_RESULT(KONDUCTOR_CONFIG, konductor_client_from_kubeconfig(garbled, NULL, ns, &client));
    EXPECT_LAST_ERROR_CONTAINS("garbled.kubeconfig");

    EXPECT_RESULT(KONDUCTOR_CONFIG, konductor_client_from_kubeconfig(kubeconfig, "no-such-context", ns, &client));
    EXPECT_LAST_ERROR_CONTAINS("no-such-context");

    EXPECT_RESULT(KONDUCTOR_INVALID_NAMESPACE, konductor_client_from_kubeconfig(kubeconfig, NULL, "Not_A_Namespace", &client));
    EXPECT_LAST_ERROR_CONTAINS("Not_A_Namespace");

    /* Outside a pod there is no service account. */
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    EXPECT_RESULT(KONDUCTOR_CONFIG, konductor_client_in_cluster(NULL, &client));
    EXPECT_RESULT(KONDUCTOR_CONFIG, konductor_client_in_cluster(ns, &client));
    setenv("KUBECONFIG", "/nonexistent/kubeconfig", 1);
    EXPECT_RESULT(KONDUCTOR_CONFIG, konductor_client_new(ns, &client));
    EXPECT_RESULT(KONDUCTOR_CONFIG, konductor_client_from_kubeconfig(NULL, NULL, ns, &client));
    EXPECT_TRUE(client == NULL);
}

static void server_refusals(const char *kubeconfig, const char *ns) {
    const char *forbidden_ns = testing_env_optional("KONDUCTOR_C_FORBIDDEN_NAMESPACE");
    const char *bad_token = testing_env_optional("KONDUCTOR_C_BAD_TOKEN_KUBECONFIG");
    konductor_client *client = NULL;
    char *json = NULL;
    if (forbidden_ns != NULL) {
        REQUIRE_OK(konductor_client_from_kubeconfig(kubeconfig, NULL, forbidden_ns, &client));
        EXPECT_RESULT(KONDUCTOR_FORBIDDEN, konductor_client_list(client, KONDUCTOR_KIND_SEMAPHORE, &json));
        EXPECT_TRUE(konductor_last_error_status() == 403);
        EXPECT_LAST_ERROR_CONTAINS("forbidden");
        EXPECT_LAST_ERROR_CONTAINS("worker"); /* the API server's own message */
        EXPECT_RESULT(KONDUCTOR_FORBIDDEN, konductor_client_create_semaphore(client, "nope", 1, 0, NULL));
        konductor_client_free(client);
    } else {
        printf("test_client: no forbidden namespace configured, skipping the 403 checks\n");
    }
    if (bad_token != NULL) {
        REQUIRE_OK(konductor_client_from_kubeconfig(bad_token, NULL, ns, &client));
        EXPECT_RESULT(KONDUCTOR_UNAUTHORIZED, konductor_client_list(client, KONDUCTOR_KIND_LEASE, &json));
        EXPECT_TRUE(konductor_last_error_status() == 401);
        konductor_client_free(client);
    } else {
        printf("test_client: no bad-token kubeconfig configured, skipping the 401 checks\n");
    }

    /* Nothing listens on port 1. */
    const char *unreachable = scratch_file("unreachable.kubeconfig",
                                           "apiVersion: v1\n"
                                           "kind: Config\n"
                                           "clusters:\n"
                                           "- name: nowhere\n"
                                           "  cluster:\n"
                                           "    server: https://127.0.0.1:1\n"
                                           "users:\n"
                                           "- name: someone\n"
                                           "  user:\n"
                                           "    token: abc\n"
                                           "contexts:\n"
                                           "- name: nowhere\n"
                                           "  context:\n"
                                           "    cluster: nowhere\n"
                                           "    user: someone\n"
                                           "current-context: nowhere\n");
    REQUIRE_OK(konductor_client_from_kubeconfig(unreachable, NULL, ns, &client));
    EXPECT_RESULT(KONDUCTOR_TRANSPORT, konductor_client_list(client, KONDUCTOR_KIND_GATE, &json));
    EXPECT_TRUE(konductor_last_error_status() == 0);
    EXPECT_LAST_ERROR_CONTAINS("Connection refused");
    konductor_client_free(client);
    EXPECT_TRUE(json == NULL);
}

static void handles_outlive_their_client(const char *kubeconfig, const char *ns) {
    konductor_client *client = NULL;
    REQUIRE_OK(konductor_client_from_kubeconfig(kubeconfig, NULL, ns, &client));
    REQUIRE_OK(konductor_client_create_semaphore(client, "outlived", 1, 0, NULL));
    konductor_held *permit = NULL;
    REQUIRE_OK(konductor_client_acquire(client, KONDUCTOR_KIND_SEMAPHORE, "outlived", NULL, &permit));
    konductor_client_free(client);
    REQUIRE_OK(konductor_held_renew(permit));
    REQUIRE_OK(konductor_held_release(permit));
    konductor_held_free(permit);
}

int main(void) {
    if (mkdtemp(scratch_dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    const char *kubeconfig = testing_env("KONDUCTOR_C_KUBECONFIG");
    const char *ns = testing_env("KONDUCTOR_C_NAMESPACE");
    results_and_version();
    from_kubeconfig(kubeconfig, ns);
    server_refusals(kubeconfig, ns);
    handles_outlive_their_client(kubeconfig, ns);
    configuration_errors(kubeconfig, ns);
    remove(scratch_file("garbled.kubeconfig", ""));
    remove(scratch_file("unreachable.kubeconfig", ""));
    rmdir(scratch_dir);
    testing_finish("test_client");
}
