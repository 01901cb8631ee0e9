package deploy_test

// What `kubectl apply -k` would apply, without kubectl: the tests build each
// kustomization of deploy/kubernetes the way kustomize does for the features
// these files use (resources, strategic-merge patches of maps, $patch:
// delete), and refuse anything else, so a file they cannot read fails
// instead of being skipped. TestDeployKustomizeAgrees holds this to kubectl
// itself where it is installed.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// deployVariants are the kustomizations one applies, by name: the trial
// (base and a single Redis pod) and the two overlays.
var deployVariants = []struct{ name, dir, mode string }{
	{"trial", "kubernetes", "single"},
	{"sentinel", "kubernetes/overlays/sentinel", "sentinel"},
	{"cluster", "kubernetes/overlays/cluster", "cluster"},
}

// deployKustomization is what these files may use of kustomization.yaml;
// any other field fails the decoding.
type deployKustomization struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Namespace  string   `yaml:"namespace"`
	Resources  []string `yaml:"resources"`
	Patches    []struct {
		Path  string `yaml:"path"`
		Patch string `yaml:"patch"`
	} `yaml:"patches"`
	Images []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
	} `yaml:"images"`
}

// deployRendered is one object of a built kustomization.
type deployRendered struct {
	kind, name string
	doc        map[string]any
	file       string // where it was defined, for messages
}

func (r *deployRendered) key() string { return r.kind + "/" + r.name }

// deployReadKustomization reads dir/kustomization.yaml strictly.
func deployReadKustomization(dir string) (deployKustomization, error) {
	var k deployKustomization
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return k, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&k); err != nil {
		return k, fmt.Errorf("%s/kustomization.yaml: %w", dir, err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		return k, fmt.Errorf("%s/kustomization.yaml: apiVersion %q kind %q, want kustomize.config.k8s.io/v1beta1 Kustomization", dir, k.APIVersion, k.Kind)
	}
	return k, nil
}

// deployMaps decodes every non-empty YAML document of data.
func deployMaps(data []byte) ([]map[string]any, error) {
	var out []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if m != nil {
			out = append(out, m)
		}
	}
}

func deployKindName(m map[string]any) (kind, name string) {
	kind, _ = m["kind"].(string)
	if md, ok := m["metadata"].(map[string]any); ok {
		name, _ = md["name"].(string)
	}
	return kind, name
}

// deployBuild builds the kustomization in dir (relative to deploy/). It
// fails on a missing file, a patch whose object is not there, a resource
// defined twice, and a patch it cannot apply as kustomize would.
func deployBuild(dir string) ([]*deployRendered, error) {
	k, err := deployReadKustomization(dir)
	if err != nil {
		return nil, err
	}
	var objs []*deployRendered
	for _, res := range k.Resources {
		path := filepath.Join(dir, res)
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("%s/kustomization.yaml: resource %s: %w", dir, res, err)
		}
		if st.IsDir() {
			sub, err := deployBuild(path)
			if err != nil {
				return nil, err
			}
			objs = append(objs, sub...)
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		docs, err := deployMaps(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, d := range docs {
			kind, name := deployKindName(d)
			if kind == "" || name == "" {
				return nil, fmt.Errorf("%s: a document lacks kind or metadata.name", path)
			}
			objs = append(objs, &deployRendered{kind: kind, name: name, doc: d, file: path})
		}
	}
	seen := map[string]string{}
	for _, o := range objs {
		if f, dup := seen[o.key()]; dup {
			return nil, fmt.Errorf("%s: %s is defined twice (%s and %s)", dir, o.key(), f, o.file)
		}
		seen[o.key()] = o.file
	}
	for i, p := range k.Patches {
		var (
			data  []byte
			where string
		)
		switch {
		case p.Path != "" && p.Patch != "":
			return nil, fmt.Errorf("%s/kustomization.yaml: patch %d has both path and patch", dir, i+1)
		case p.Path != "":
			where = filepath.Join(dir, p.Path)
			if data, err = os.ReadFile(where); err != nil {
				return nil, fmt.Errorf("%s/kustomization.yaml: patch %s: %w", dir, p.Path, err)
			}
		case p.Patch != "":
			where, data = fmt.Sprintf("%s/kustomization.yaml patch %d", dir, i+1), []byte(p.Patch)
		default:
			return nil, fmt.Errorf("%s/kustomization.yaml: patch %d has neither path nor patch", dir, i+1)
		}
		docs, err := deployMaps(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		for _, d := range docs {
			if objs, err = deployPatch(objs, d); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		}
	}
	if k.Namespace != "" {
		for _, o := range objs {
			if o.kind == "Namespace" {
				continue
			}
			md := o.doc["metadata"].(map[string]any)
			md["namespace"] = k.Namespace
		}
	}
	return objs, nil
}

// deployPatch applies one strategic-merge patch document to objs.
func deployPatch(objs []*deployRendered, patch map[string]any) ([]*deployRendered, error) {
	kind, name := deployKindName(patch)
	i := slices.IndexFunc(objs, func(o *deployRendered) bool { return o.kind == kind && o.name == name })
	if i < 0 {
		return nil, fmt.Errorf("the patch of %s/%s matches no object", kind, name)
	}
	if v, ok := patch["$patch"]; ok {
		if v != "delete" {
			return nil, fmt.Errorf("the patch of %s/%s: $patch: %v is not handled here", kind, name, v)
		}
		return slices.Delete(objs, i, i+1), nil
	}
	if patch["apiVersion"] != objs[i].doc["apiVersion"] {
		return nil, fmt.Errorf("the patch of %s/%s has apiVersion %v, the object %v", kind, name, patch["apiVersion"], objs[i].doc["apiVersion"])
	}
	if err := deployMerge(objs[i].doc, patch, kind+"/"+name); err != nil {
		return nil, err
	}
	return objs, nil
}

// deployMerge merges src into dst as a strategic-merge patch merges maps: a
// null value removes the key. Lists are merged by kustomize by their items'
// keys, which these tests do not do: a patch holding a list fails.
func deployMerge(dst, src map[string]any, where string) error {
	for k, v := range src {
		switch v := v.(type) {
		case nil:
			delete(dst, k)
		case map[string]any:
			d, ok := dst[k].(map[string]any)
			if !ok {
				d = map[string]any{}
				dst[k] = d
			}
			if err := deployMerge(d, v, where+"."+k); err != nil {
				return err
			}
		case []any:
			return fmt.Errorf("the patch of %s sets the list %s: these tests do not merge lists as kustomize does; patch a map", where, k)
		default:
			dst[k] = v
		}
	}
	return nil
}

// deployBuildVariant builds a variant, failing the test if it cannot.
func deployBuildVariant(t *testing.T, dir string) []*deployRendered {
	t.Helper()
	objs, err := deployBuild(filepath.Join(deployDir, dir))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// deployData is the data (or stringData) of the ConfigMap or Secret named.
func deployData(objs []*deployRendered, kind, name string) map[string]string {
	for _, o := range objs {
		if o.kind != kind || o.name != name {
			continue
		}
		field := "data"
		if kind == "Secret" {
			field = "stringData"
		}
		out := map[string]string{}
		m, _ := o.doc[field].(map[string]any)
		for k, v := range m {
			out[k] = fmt.Sprint(v)
		}
		return out
	}
	return nil
}

// TestDeployKustomizationsListEveryFile: every YAML file under
// deploy/kubernetes is a kustomization, or a resource or patch one of them
// names, so no file is edited in vain.
func TestDeployKustomizationsListEveryFile(t *testing.T) {
	root := filepath.Join(deployDir, "kubernetes")
	named := map[string]bool{}
	kustomizations := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "kustomization.yaml" {
			return err
		}
		kustomizations++
		k, err := deployReadKustomization(filepath.Dir(path))
		if err != nil {
			t.Error(err)
			return nil
		}
		for _, r := range k.Resources {
			named[filepath.Clean(filepath.Join(filepath.Dir(path), r))] = true
		}
		for _, p := range k.Patches {
			if p.Path != "" {
				named[filepath.Clean(filepath.Join(filepath.Dir(path), p.Path))] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if kustomizations < len(deployVariants)+1 {
		t.Errorf("%d kustomization.yaml files under %s, want the base's and one per variant (%d)", kustomizations, root, len(deployVariants))
	}
	for _, path := range deployYAMLFiles(t, root) {
		if filepath.Base(path) != "kustomization.yaml" && !named[filepath.Clean(path)] {
			t.Errorf("%s is named by no kustomization.yaml (as a resource or a patch path)", path)
		}
	}
}

// TestDeployKustomizeAgrees builds each variant with `kubectl kustomize`,
// when kubectl is installed, and compares its objects and their settings
// with the tests' own build.
func TestDeployKustomizeAgrees(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed: the kustomizations are checked by the tests' own build only")
	}
	for _, v := range deployVariants {
		t.Run(v.name, func(t *testing.T) {
			ours := deployBuildVariant(t, v.dir)
			out, err := exec.Command(kubectl, "kustomize", filepath.Join(deployDir, v.dir)).Output()
			if err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					t.Fatalf("kubectl kustomize %s: %v\n%s", v.dir, err, ee.Stderr)
				}
				t.Fatalf("kubectl kustomize %s: %v", v.dir, err)
			}
			docs, err := deployMaps(out)
			if err != nil {
				t.Fatalf("kubectl kustomize %s printed what is not YAML: %v", v.dir, err)
			}
			var theirs []*deployRendered
			for _, d := range docs {
				kind, name := deployKindName(d)
				theirs = append(theirs, &deployRendered{kind: kind, name: name, doc: d})
			}
			keys := func(objs []*deployRendered) []string {
				var ks []string
				for _, o := range objs {
					ks = append(ks, o.key())
				}
				sort.Strings(ks)
				return ks
			}
			if got, want := keys(ours), keys(theirs); !slices.Equal(got, want) {
				t.Errorf("objects: the tests build %v, kubectl %v", got, want)
			}
			for _, ref := range []struct{ kind, name string }{{"ConfigMap", "runjob-config"}, {"Secret", "runjob-secrets"}} {
				got, want := deployData(ours, ref.kind, ref.name), deployData(theirs, ref.kind, ref.name)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s/%s: the tests build\n%v\nkubectl\n%v", ref.kind, ref.name, got, want)
				}
			}
			for _, o := range theirs {
				if ns := o.doc["metadata"].(map[string]any)["namespace"]; o.kind != "Namespace" && ns != "runjob" {
					t.Errorf("kubectl puts %s in namespace %v, want runjob", o.key(), ns)
				}
				if o.kind == "Deployment" {
					image := fmt.Sprint(o.doc["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"])
					if !strings.Contains(image, "/runjob-bot:") {
						t.Errorf("kubectl sets the bot's image to %s: the base's images: entry did not apply", image)
					}
				}
			}
		})
	}
}
