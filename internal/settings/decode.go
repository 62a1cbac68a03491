package settings

import (
	"errors"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/knadh/koanf/v2"
)

// Decode unmarshals section of k into out, a pointer to a struct whose
// fields carry koanf tags, and refuses every key that out has no field for,
// at any depth (nested structs, lists of structs, maps of structs), with an
// *UnknownKeyError naming the nearest field. A missing section leaves out
// as it is.
func Decode(k *koanf.Koanf, section string, out any) error {
	if k == nil || !k.Exists(section) {
		return nil
	}
	if err := Check(section, k.Get(section), reflect.TypeOf(out)); err != nil {
		return err
	}
	return k.Unmarshal(section, out)
}

// Check compares a raw configuration value (maps and lists as YAML gives
// them) against the type it will be decoded into, and returns an
// *UnknownKeyError, joined, for each key the type has no field for. path is
// the value's dotted key.
func Check(path string, raw any, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			return nil // a type mismatch is the decoder's to report
		}
		fields := structFields(t)
		names := make([]string, 0, len(fields))
		for n := range fields {
			names = append(names, n)
		}
		sort.Strings(names)
		var errs []error
		for _, key := range sortedKeys(m) {
			ft, ok := fields[key]
			if !ok {
				e := &UnknownKeyError{Key: path + "." + key}
				if s := Nearest(key, names); s != "" {
					e.Suggestion = path + "." + s
				}
				errs = append(errs, e)
				continue
			}
			errs = append(errs, Check(path+"."+key, m[key], ft))
		}
		return errors.Join(errs...)
	case reflect.Slice, reflect.Array:
		l, ok := raw.([]any)
		if !ok {
			return nil
		}
		var errs []error
		for i, e := range l {
			errs = append(errs, Check(path+"["+strconv.Itoa(i)+"]", e, t.Elem()))
		}
		return errors.Join(errs...)
	case reflect.Map:
		m, ok := raw.(map[string]any)
		if !ok {
			return nil
		}
		var errs []error
		for _, key := range sortedKeys(m) {
			errs = append(errs, Check(path+"."+key, m[key], t.Elem()))
		}
		return errors.Join(errs...)
	}
	return nil
}

// structFields maps each koanf key of t's fields to the field's type;
// embedded structs without a tag contribute their own fields.
func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("koanf"), ",")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			for n, ft := range structFields(f.Type) {
				out[n] = ft
			}
			continue
		}
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		out[tag] = f.Type
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
