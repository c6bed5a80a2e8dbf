package api

import (
	"encoding/json"
	"net/http"
	"sort"

	"github.com/fengqiao/fengqiao/plugins/host"
)

// formView is one form a running plugin declares, with the schema of each
// of its fields (the properties of the plugin's Fields schema), so a
// client renders and checks it without knowing the plugin.
type formView struct {
	Plugin string                     `json:"plugin"`
	Name   string                     `json:"name"`
	Title  string                     `json:"title"`
	Place  string                     `json:"place"` // report or event
	Fields []string                   `json:"fields"`
	Schema map[string]json.RawMessage `json:"schema"`
	// Required lists the fields the plugin's schema requires.
	Required []string `json:"required,omitempty"`
}

type formsView struct {
	Forms []formView `json:"forms"`
}

// listForms answers the forms of the plugins running here: the console's
// report and event pages and Open311's service definitions render them.
func (s *Server) listForms(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, formsView{Forms: s.pluginForms()})
	return nil
}

// pluginForms lists the running plugins' forms, by plugin then form.
func (s *Server) pluginForms() []formView {
	out := []formView{}
	if s.Plugins == nil {
		return out
	}
	for _, st := range s.Plugins.Statuses() {
		d := st.Description
		if d == nil || st.State != host.StateRunning || len(d.Fields) == 0 {
			continue
		}
		var sch struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		}
		if json.Unmarshal(d.Fields, &sch) != nil {
			continue // the host checked it compiles; a schema without properties has no fields to show
		}
		for _, f := range d.Forms {
			v := formView{Plugin: d.Name, Name: f.Name, Title: f.Title, Place: f.Place, Fields: f.Fields, Schema: map[string]json.RawMessage{}}
			for _, name := range f.Fields {
				if p, ok := sch.Properties[name]; ok {
					v.Schema[name] = p
				}
				for _, req := range sch.Required {
					if req == name {
						v.Required = append(v.Required, name)
					}
				}
			}
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Plugin != out[j].Plugin {
			return out[i].Plugin < out[j].Plugin
		}
		return out[i].Name < out[j].Name
	})
	return out
}
