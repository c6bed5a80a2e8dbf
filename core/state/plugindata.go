package state

import (
	"strings"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// Plugin state: records a plugin keeps, namespaced by plugin, jurisdiction
// and collection. Apply lets a plugin write only while it is enabled and
// only in the jurisdictions its running version serves, whatever the
// command says.

func pluginDataKey(plugin, jur, collection, key string) []byte {
	return []byte(plugin + "/" + jur + "/" + collection + "/" + key)
}

// pluginOwns checks that plugin is enabled and serves jur.
func (t *txn) pluginOwns(plugin, jur string) error {
	var a model.PluginActive
	ok, err := t.getRecord(bPlugin, pluginActiveKey(plugin), &a)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Forbidden("plugin", "disabled", "plugin %s is not enabled", plugin)
	}
	var v model.PluginVersion
	if _, err := t.getRecord(bPlugin, pluginVersionKey(plugin, a.Version), &v); err != nil {
		return err
	}
	if !v.Covers(jur) {
		return errs.Forbidden("jurisdiction", "scope", "plugin %s does not serve jurisdiction %s", plugin, jur)
	}
	return nil
}

func applyPluginPut(t *txn, c *Command, r *model.PluginRecord) (any, error) {
	if inputRules(c) {
		if err := r.Check(); err != nil {
			return nil, err
		}
	}
	if hidden(c, r.Jurisdiction) {
		return nil, errs.NotFound("jurisdiction", "jurisdiction %s not found", r.Jurisdiction)
	}
	if err := t.pluginOwns(r.Plugin, r.Jurisdiction); err != nil {
		return nil, err
	}
	r.UpdatedAt, r.UpdatedBy = c.At, c.Actor
	return r, t.putRecord(bPluginData, pluginDataKey(r.Plugin, r.Jurisdiction, r.Collection, r.Key), r)
}

func applyPluginDelete(t *txn, c *Command, r *model.PluginRecord) (any, error) {
	if hidden(c, r.Jurisdiction) {
		return nil, errs.NotFound("jurisdiction", "jurisdiction %s not found", r.Jurisdiction)
	}
	if err := t.pluginOwns(r.Plugin, r.Jurisdiction); err != nil {
		return nil, err
	}
	k := pluginDataKey(r.Plugin, r.Jurisdiction, r.Collection, r.Key)
	if t.b(bPluginData).Get(k) == nil {
		return nil, errs.NotFound("key", "plugin %s: no record %s in %s", r.Plugin, r.Key, r.Collection)
	}
	return nil, t.del(bPluginData, k)
}

// PluginRecord reads one record of a plugin.
func (eng *Engine) PluginRecord(plugin, jur, collection, key string) (*model.PluginRecord, error) {
	var r model.PluginRecord
	var ok bool
	err := eng.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bPluginData).Get(pluginDataKey(plugin, jur, collection, key))
		if raw == nil {
			return nil
		}
		ok = true
		return decodeRecord(raw, &r)
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.NotFound("key", "plugin %s: no record %s in %s", plugin, key, collection)
	}
	return &r, nil
}

// PluginRecords lists up to limit records of a plugin's collection in one
// jurisdiction, by key, after the key after.
func (eng *Engine) PluginRecords(plugin, jur, collection, after string, limit int) ([]model.PluginRecord, error) {
	prefix := string(pluginDataKey(plugin, jur, collection, ""))
	var out []model.PluginRecord
	err := eng.View(func(tx *bbolt.Tx) error {
		cur := tx.Bucket(bPluginData).Cursor()
		k, v := cur.Seek([]byte(prefix + after))
		if after != "" && k != nil && string(k) == prefix+after {
			k, v = cur.Next()
		}
		for ; k != nil && strings.HasPrefix(string(k), prefix) && len(out) < limit; k, v = cur.Next() {
			var r model.PluginRecord
			if err := decodeRecord(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}
