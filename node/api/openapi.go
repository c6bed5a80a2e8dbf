package api

import (
	"net/http"

	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/fengqiao/fengqiao/plugins/host"
)

var pathParam = regexp.MustCompile(`\{(\w+)\}`)

// Document returns the OpenAPI 3.1 description of the routes this server
// registers — generated from the same table, so it cannot drift from them.
func Document() map[string]any {
	paths := map[string]any{}
	sc := &schemas{defs: map[string]any{}}
	for _, rt := range routes {
		if rt.path == pluginRoutes {
			continue // each plugin's routes are listed by the server that runs it
		}
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		op := map[string]any{
			"operationId": rt.op,
			"summary":     rt.summary,
			"responses": map[string]any{
				"default": map[string]any{
					"description": "An RFC 9457 problem naming the offending field",
					"content":     map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}},
				},
			},
		}
		bd := bodies[rt.op]
		status := bd.status
		if status == 0 {
			status = http.StatusOK
		}
		ok := map[string]any{"description": http.StatusText(status)}
		switch {
		case bd.media != "":
			ok["content"] = map[string]any{bd.media: map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
		case bd.out != nil:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": sc.of(reflect.TypeOf(bd.out))}}
		}
		op["responses"].(map[string]any)[strconv.Itoa(status)] = ok
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if rt.method == "GET" && strings.HasPrefix(rt.path, "/api/v1/") && rt.path != "/api/v1/openapi.json" {
			params = append(params, map[string]any{"name": "stale", "in": "query", "required": false,
				"description": "true: serve from this replica's state without a consistency check", "schema": map[string]any{"type": "boolean"}})
		}
		if max, ok := paged[rt.op]; ok {
			params = append(params,
				map[string]any{"name": "limit", "in": "query", "required": false, "description": "page size",
					"schema": map[string]any{"type": "integer", "minimum": 1, "maximum": max, "default": 50}},
				map[string]any{"name": "cursor", "in": "query", "required": false,
					"description": "the previous page's next; refused (400, field cursor) if it belongs to another listing", "schema": map[string]any{"type": "string"}})
		}
		if !rt.public {
			// Who may call it, and the administrators' second factor.
			op["x-permission"] = rt.perm.String()
			if rt.wide {
				op["x-scope"] = "node-wide"
			}
			params = append(params, map[string]any{"name": OTPHeader, "in": "header", "required": false,
				"description": "an administrator's TOTP code (system_admin, security_admin, audit_admin, center_admin)",
				"schema":      map[string]any{"type": "string", "pattern": "^[0-9]{6}$"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		switch {
		case bd.in != nil:
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": sc.of(reflect.TypeOf(bd.in))}}}
		case bd.form:
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/x-www-form-urlencoded": map[string]any{"schema": map[string]any{"type": "object"}}}}
		case rt.op == "restore":
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
		case len(bd.upload) > 0:
			content := map[string]any{}
			for _, m := range bd.upload {
				content[m] = map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
			}
			op["requestBody"] = map[string]any{"required": true, "content": content}
		}
		if rt.public {
			op["security"] = []any{}
		}
		item[strings.ToLower(rt.method)] = op
	}
	sc.defs["Problem"] = map[string]any{"type": "object", "properties": map[string]any{
		"type": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"}, "status": map[string]any{"type": "integer"},
		"detail": map[string]any{"type": "string"}, "instance": map[string]any{"type": "string"},
		"field": map[string]any{"type": "string"}, "rule": map[string]any{"type": "string"}, "leader": map[string]any{"type": "string"},
	}}
	return map[string]any{
		"openapi":  "3.1.0",
		"info":     map[string]any{"title": "Fengqiao API", "version": "v1", "description": "网格化服务管理 — grid-based social governance"},
		"paths":    paths,
		"security": []any{map[string]any{"bearer": []any{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas":         sc.defs,
		},
	}
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	doc := Document()
	if s.Plugins != nil {
		addPluginRoutes(doc, s.Plugins.Routes())
	}
	writeJSON(w, http.StatusOK, doc)
	return nil
}

// addPluginRoutes merges the running plugins' routes into the document,
// each under /api/v1/plugins/{name} with the permission it asks.
func addPluginRoutes(doc map[string]any, byPlugin map[string][]host.Route) {
	paths := doc["paths"].(map[string]any)
	for name, rts := range byPlugin {
		for _, rt := range rts {
			path := "/api/v1/plugins/" + name + rt.Path
			item, _ := paths[path].(map[string]any)
			if item == nil {
				item = map[string]any{}
				paths[path] = item
			}
			params := []any{map[string]any{"name": "jurisdiction", "in": "query", "required": false,
				"description": "the jurisdiction the request is about: in the token's scope and the plugin's (default the token's scope)",
				"schema":      map[string]any{"type": "string"}}}
			for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
				params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
			op := map[string]any{
				"operationId":  "plugin." + name + "." + strings.ToLower(rt.Method) + strings.NewReplacer("/", ".", "{", "", "}", "").Replace(rt.Path),
				"summary":      rt.Summary,
				"x-plugin":     name,
				"x-permission": rt.Perm,
				"parameters":   params,
				"responses": map[string]any{
					"200":     map[string]any{"description": "The plugin's answer", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{}}}},
					"default": map[string]any{"description": "An RFC 9457 problem naming the offending field", "content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}},
				},
			}
			if rt.Method != "GET" && rt.Method != "DELETE" {
				op["requestBody"] = map[string]any{"required": false, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{}}}}
			}
			item[strings.ToLower(rt.Method)] = op
		}
	}
}
