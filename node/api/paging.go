package api

import (
	"net/http"
)

// paged are the listings that take ?limit= and ?cursor= and answer with
// next, the opaque cursor of the following page ("" on the last). The
// handlers read their bounds from here and so does the OpenAPI document.
var paged = map[string]int{ // operation → largest limit
	"listGrids": 1000, "listEvents": 500, "listPeople": 500, "listOrgs": 500, "listMembers": 500, "listActivities": 500, "listCases": 500,
	"listTokens": 500, "listVisits": 500, "listCaseEntries": 500, "listHouses": 500, "listStaffTokens": 500, "webhookDeliveries": 1000,
}

// pageParams reads ?limit= (default 50) and ?cursor= for the listing op.
func pageParams(r *http.Request, op string) (limit int, cursor string, err error) {
	q := r.URL.Query()
	limit, err = limitParam(q, paged[op])
	return limit, q.Get("cursor"), err
}
