// SPDX-License-Identifier: GPL-2.0
/*
 * jansson over json-c: json_loadb() parses a length-delimited buffer (no
 * NUL needed), reports line/column on malformed input, and json_unpack()
 * checks the shape of an answer in one call; the library has no global
 * state and no dependency, and is in Debian main.
 *
 * Answer of /api/v1/query for an instant vector:
 *   {"status":"success","data":{"resultType":"vector","result":[
 *     {"metric":{"instance":"10.0.0.2:9100",...},"value":[1700000000.1,"0.42"]},
 *   ...]}}
 * and on failure {"status":"error","errorType":"bad_data","error":"..."}.
 * Sample values are strings (so that NaN and Inf survive JSON).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "prom_text.h"
#include "promql.h"
#include "util.h"

void promql_query_text(enum promql_query q, uint64_t window_ns, char *buf,
		       size_t len)
{
	unsigned long long w = (unsigned long long)(window_ns / NSEC_PER_SEC);

	switch (q) {
	case PQ_CPU:
		snprintf(buf, len,
			 "1 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[%llus]))",
			 w);
		break;
	case PQ_MEMORY:
		snprintf(buf, len,
			 "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes");
		break;
	case PQ_RX:
		snprintf(buf, len,
			 "sum by (instance, device) (rate(node_network_receive_bytes_total[%llus]))",
			 w);
		break;
	default:
		snprintf(buf, len,
			 "sum by (instance, device) (rate(node_network_transmit_bytes_total[%llus]))",
			 w);
		break;
	}
}

char *promql_url(const char *base, const char *query)
{
	static const char path[] = "/api/v1/query?query=";
	size_t blen = strlen(base), i, o = 0;
	char *url;

	while (blen && base[blen - 1] == '/')
		blen--;
	url = xcalloc(1, blen + sizeof(path) + 3 * strlen(query) + 1);
	memcpy(url, base, blen);
	o = blen;
	memcpy(url + o, path, sizeof(path) - 1);
	o += sizeof(path) - 1;
	for (i = 0; query[i]; i++) {
		unsigned char c = (unsigned char)query[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c)) {
			url[o++] = (char)c;
		} else {
			snprintf(url + o, 4, "%%%02X", c);
			o += 3;
		}
	}
	url[o] = '\0';
	return url;
}

static char *label(json_t *metric, const char *name)
{
	json_t *v = json_object_get(metric, name);

	return xstrdup(json_is_string(v) ? json_string_value(v) : "");
}

int promql_parse_vector(const char *body, size_t len, struct promql_vec *out,
			char *err, size_t errlen)
{
	const char *status = NULL, *rtype = NULL, *etype = "", *emsg = "";
	json_t *root, *result = NULL, *item;
	json_error_t jerr;
	size_t i;

	memset(out, 0, sizeof(*out));
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "not JSON (line %d column %d: %s)",
			 jerr.line, jerr.column, jerr.text);
		return -1;
	}
	if (json_unpack(root, "{s:s}", "status", &status)) {
		snprintf(err, errlen, "answer without a status");
		goto fail;
	}
	if (strcmp(status, "success")) {
		json_unpack(root, "{s?s, s?s}", "errorType", &etype, "error", &emsg);
		snprintf(err, errlen, "query failed: %s%s%s", etype, *etype ? ": " : "",
			 emsg);
		goto fail;
	}
	if (json_unpack_ex(root, &jerr, 0, "{s:{s:s, s:o}}", "data", "resultType",
			   &rtype, "result", &result) || !json_is_array(result)) {
		snprintf(err, errlen, "malformed answer: %s", jerr.text);
		goto fail;
	}
	if (strcmp(rtype, "vector")) {
		snprintf(err, errlen, "expected an instant vector, got a %s", rtype);
		goto fail;
	}
	out->p = xcalloc(json_array_size(result), sizeof(*out->p));
	json_array_foreach(result, i, item) {
		json_t *metric = NULL;
		const char *val = NULL;
		double ts, v;

		if (json_unpack(item, "{s:o, s:[F,s]}", "metric", &metric, "value",
				&ts, &val) || !json_is_object(metric) ||
		    prom_parse_value(val, &v)) {
			snprintf(err, errlen, "malformed sample %zu in the answer", i);
			promql_vec_free(out);
			goto fail;
		}
		out->p[out->n].instance = label(metric, "instance");
		out->p[out->n].device = label(metric, "device");
		out->p[out->n].value = v;
		out->n++;
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	return -1;
}

void promql_vec_free(struct promql_vec *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		free(v->p[i].instance);
		free(v->p[i].device);
	}
	free(v->p);
	v->p = NULL;
	v->n = 0;
}

bool promql_instance_value(const struct promql_vec *v, const char *instance,
			   double *out)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (!strcmp(v->p[i].instance, instance)) {
			if (!isfinite(v->p[i].value))
				return false;
			*out = v->p[i].value;
			return true;
		}
	}
	return false;
}

bool promql_instance_net(const struct promql_vec *v, const char *instance,
			 const char *net_device, double *out)
{
	bool found = false;
	double sum = 0;
	size_t i;

	for (i = 0; i < v->n; i++) {
		const struct promql_point *p = &v->p[i];

		if (strcmp(p->instance, instance))
			continue;
		if (net_device[0] ? !dev_in_list(net_device, p->device) :
				    !strcmp(p->device, "lo"))
			continue;
		if (!isfinite(p->value))
			return false;
		sum += p->value;
		found = true;
	}
	if (found)
		*out = sum;
	return found;
}
