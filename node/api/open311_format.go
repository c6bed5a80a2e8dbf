package api

import (
	"encoding/xml"
	"net/http"
	"strings"
)

// Open311 answers in JSON or XML, as the path's ending asks (the spec's
// two formats), and its errors in the spec's own shape.

// o311XML reports whether the request asked for XML.
func o311XML(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, ".xml") }

// o311Error is one of the spec's errors.
type o311Error struct {
	XMLName     xml.Name `json:"-" xml:"error"`
	Code        int      `json:"code" xml:"code"`
	Description string   `json:"description" xml:"description"`
}

// o311Errors is the spec's error list.
type o311Errors struct {
	XMLName xml.Name    `xml:"errors"`
	Errors  []o311Error `xml:"error"`
}

// writeO311 answers v as JSON, or wrapped as XML under the element names
// the spec gives.
func writeO311(w http.ResponseWriter, r *http.Request, status int, v any) {
	if !o311XML(r) {
		writeJSON(w, status, v)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	enc.Encode(inCST(v))
}

// writeO311Problem answers an error on an Open311 path in the spec's
// format: [{"code","description"}] or <errors><error>…</error></errors>.
func writeO311Problem(w http.ResponseWriter, r *http.Request, status int, detail, field string) {
	if field != "" {
		detail = field + ": " + detail
	}
	e := o311Error{Code: status, Description: detail}
	if o311XML(r) {
		writeO311(w, r, status, o311Errors{Errors: []o311Error{e}})
		return
	}
	writeJSON(w, status, []o311Error{e})
}

// XML lists: the spec's root and item elements.
type (
	o311ServicesXML struct {
		XMLName  xml.Name      `xml:"services"`
		Services []o311Service `xml:"service"`
	}
	o311RequestsXML struct {
		XMLName  xml.Name      `xml:"service_requests"`
		Requests []o311Request `xml:"request"`
	}
	o311CreatedXML struct {
		XMLName  xml.Name         `xml:"service_requests"`
		Requests []open311Created `xml:"request"`
	}
)
