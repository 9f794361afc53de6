package sdk_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/sdk"
)

// Example protects a net/http handler. The PDP starts from the service's
// last-known-good bundle (in production add sdk.WithBundleSource for the
// live bundle stream and sdk.WithTokenVerifier to turn bearer tokens into
// subject attributes); the middleware lets through only what the policy
// permits.
func Example() {
	trust, err := bundle.LoadTrustStore("testdata/example/trusted-keys.json")
	if err != nil {
		log.Fatal(err)
	}
	authz, err := sdk.New(context.Background(), sdk.WithService("files"),
		sdk.WithLastKnownGood("testdata/example"), sdk.WithTrustedKeys(trust))
	if err != nil {
		log.Fatal(err)
	}
	defer authz.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /files/{path...}", sdk.Middleware(authz)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "contents of", r.PathValue("path"))
	})))

	for _, path := range []string{"/files/public/menu.txt", "/files/private/salaries.txt"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(path, rec.Code)
	}
	// Output:
	// /files/public/menu.txt 200
	// /files/private/salaries.txt 403
}
