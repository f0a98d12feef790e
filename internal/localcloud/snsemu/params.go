package snsemu

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// params are the form parameters of a Query request.
type params url.Values

func (p params) get(name string) string { return url.Values(p).Get(name) }

// required returns a parameter or an InvalidParameter error naming it.
func (p params) required(name string) (string, error) {
	v := p.get(name)
	if v == "" {
		return "", errInvalidParameter("%s", name)
	}
	return v, nil
}

// structs groups flattened list/map parameters such as
// "Attributes.entry.2.key" under prefix "Attributes.entry": one map of
// field ("key", "Value.DataType", ...) to value per index, in index order.
func (p params) structs(prefix string) []map[string]string {
	byIndex := map[int]map[string]string{}
	for k, v := range p {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok || len(v) == 0 {
			continue
		}
		num, field, ok := strings.Cut(rest, ".")
		if !ok {
			// A flat list: "TagKeys.member.1" = value.
			num, field = rest, ""
		}
		i, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		if byIndex[i] == nil {
			byIndex[i] = map[string]string{}
		}
		byIndex[i][field] = v[0]
	}
	idx := make([]int, 0, len(byIndex))
	for i := range byIndex {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	out := make([]map[string]string, len(idx))
	for j, i := range idx {
		out[j] = byIndex[i]
	}
	return out
}

// stringMap decodes a map parameter ("Attributes.entry.N.key/value").
func (p params) stringMap(name string) map[string]string {
	entries := p.structs(name + ".entry")
	if len(entries) == 0 {
		return nil
	}
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		out[e["key"]] = e["value"]
	}
	return out
}

// list decodes a list of strings ("TagKeys.member.N").
func (p params) list(name string) []string {
	var out []string
	for _, e := range p.structs(name + ".member") {
		out = append(out, e[""])
	}
	return out
}

// tags decodes "Tags.member.N.Key/Value".
func (p params) tags() map[string]string {
	out := map[string]string{}
	for _, e := range p.structs("Tags.member") {
		out[e["Key"]] = e["Value"]
	}
	return out
}

// messageAttribute is a message attribute of a Publish: DataType String,
// String.Array, Number or Binary (optionally with a ".label" suffix), and
// the value (binary values are base64, as on the wire).
type messageAttribute struct {
	DataType string
	Value    string
}

// binary reports whether the attribute has a Binary data type.
func (a messageAttribute) binary() bool { return strings.HasPrefix(a.DataType, "Binary") }

// messageAttributes decodes and validates Publish's MessageAttributes.
func (p params) messageAttributes() (map[string]messageAttribute, error) {
	entries := p.structs("MessageAttributes.entry")
	if len(entries) == 0 {
		return nil, nil
	}
	if len(entries) > 10 {
		return nil, errInvalidParameter("MessageAttributes: too many message attributes (%d > 10)", len(entries))
	}
	out := make(map[string]messageAttribute, len(entries))
	for _, e := range entries {
		name, typ := e["Name"], e["Value.DataType"]
		if name == "" {
			return nil, errInvalidParameter("MessageAttributes: message attribute name is empty")
		}
		a := messageAttribute{DataType: typ}
		base, _, _ := strings.Cut(typ, ".")
		switch {
		case base == "String" || base == "Number":
			a.Value = e["Value.StringValue"]
			if a.Value == "" {
				return nil, errParameterValueInvalid("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, typ)
			}
			if base == "Number" {
				if _, err := strconv.ParseFloat(a.Value, 64); err != nil {
					return nil, errParameterValueInvalid("Could not cast message attribute '%s' value to number.", name)
				}
			}
		case base == "Binary":
			a.Value = e["Value.BinaryValue"]
			if _, err := base64.StdEncoding.DecodeString(a.Value); err != nil || a.Value == "" {
				return nil, errParameterValueInvalid("The message attribute '%s' must contain a non-empty base64 binary value.", name)
			}
		case typ == "":
			return nil, errParameterValueInvalid("The message attribute '%s' must contain non-empty message attribute type.", name)
		default:
			return nil, errParameterValueInvalid("The message attribute '%s' has an invalid message attribute type, "+
				"the set of supported type prefixes is Binary, Number, and String.", name)
		}
		out[name] = a
	}
	return out, nil
}
