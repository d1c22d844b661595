#ifndef ADVOCATE_CCURL_SHIM_H
#define ADVOCATE_CCURL_SHIM_H

#include <curl/curl.h>

// Swift cannot call C variadic functions, so each curl_easy_setopt / curl_easy_getinfo
// shape Advocate needs gets one typed wrapper here. Nothing else lives in C.

typedef size_t (*advocate_curl_io_callback)(char *buffer, size_t size, size_t count, void *context);

static inline CURLcode advocate_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode advocate_curl_set_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode advocate_curl_set_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode advocate_curl_set_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode advocate_curl_set_read_callback(CURL *handle, advocate_curl_io_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_READFUNCTION, callback);
}

static inline CURLcode advocate_curl_set_write_callback(CURL *handle, advocate_curl_io_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

static inline CURLcode advocate_curl_set_header_callback(CURL *handle, advocate_curl_io_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

typedef curl_socket_t (*advocate_curl_opensocket_callback)(void *context, curlsocktype purpose,
                                                            struct curl_sockaddr *address);

static inline CURLcode advocate_curl_set_opensocket_callback(CURL *handle, advocate_curl_opensocket_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, callback);
}

static inline CURLcode advocate_curl_get_string(CURL *handle, CURLINFO info, const char **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode advocate_curl_get_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
