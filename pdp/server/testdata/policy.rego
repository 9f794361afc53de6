# A hand-written policy in the xacml/compile evaluation contract (see the
# package documentation of xacml/compile), so that the server's tests do
# not depend on the authoring language. It encodes the AuthZEN
# certification fixture plus a few HTTP rules for ext_authz.
package verdict.main

import rego.v1

subj := "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject"

act := "urn:oasis:names:tc:xacml:3.0:attribute-category:action"

res := "urn:oasis:names:tc:xacml:3.0:attribute-category:resource"

env := "urn:oasis:names:tc:xacml:3.0:attribute-category:environment"

processing_error := "urn:oasis:names:tc:xacml:1.0:status:processing-error"

# bag is the request's values of an attribute, else what the PIPs supply.
bag(c, id, t) := input.a[c][id][t]

bag(c, id, t) := verdict.pip(c, id, t, "") if not input.a[c][id][t]

names := bag(act, "name", "string")

paths := bag(res, "path", "string")

permit if "read" in names

permit if {
	"write" in names
	"admin" in bag(subj, "role", "string")
}

permit if {
	"write" in names
	"alice" in bag(subj, "id", "string")
	not "archived" in bag(res, "status", "string")
}

permit if {
	"delete" in names
	true in bag(act, "soft", "boolean")
}

permit if {
	"GET" in names
	some p in paths
	startswith(p, "/public")
}

permit if {
	"GET" in names
	"spiffe://test/ok" in bag(subj, "workload", "string")
}

permit if {
	"GET" in names
	"/todos" in paths
	"todos:read" in bag(subj, "scope", "string")
}

permit if {
	"GET" in names
	"/before-2030" in paths
	some t in bag(env, "time", "dateTime")
	t < "2030"
}

header_obligation := {"id": "urn:verdict:obligation:http-header", "as": [
	{"id": "X-User", "c": "", "i": "", "t": "string", "v": "alice"},
	{"id": "X-Level", "c": "", "i": "", "t": "integer", "v": 3},
]}

response_advice := {"id": "urn:verdict:obligation:http-response-header", "as": [{"id": "x-served-by", "c": "", "i": "", "t": "string", "v": "verdict"}]}

default result := {"d": "D", "o": [], "a": [{"id": "urn:example:reason", "as": [{"id": "reason", "c": "", "i": "", "t": "string", "v": "not allowed"}]}]}

result := {"d": "IDP", "s": processing_error} if {
	"boom" in names
} else := {"d": "NA"} if {
	"na" in names
} else := {"d": "P", "o": [header_obligation], "a": [response_advice]} if {
	"GET" in names
	"/hdr" in paths
} else := {"d": "P", "o": [{"id": "urn:example:unknown", "as": []}], "a": []} if {
	"GET" in names
	"/unknown-obligation" in paths
} else := {"d": "P"} if {
	permit
}
