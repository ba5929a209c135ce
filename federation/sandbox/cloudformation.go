package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
	"gopkg.in/yaml.v3"
)

// TemplateRole is an AWS::IAM::Role of a CloudFormation template as it
// would be deployed in one account: every intrinsic function resolved.
type TemplateRole struct {
	// LogicalID is the resource's name in the template.
	LogicalID string
	// Role is the role as a fixture role: its inline policies and the AWS
	// managed policies it attaches (the sandbox's versions, managed.go).
	// Roles that trust
	// AWS principals get them as TrustedPrincipals and the actions their
	// trust policy allows as TrustActions.
	Role Role
	// TrustPolicy is the role's trust policy as JSON.
	TrustPolicy string
	// Services are the service principals the trust policy names; the
	// sandbox serves no AWS service that could assume the role.
	Services []string
}

// Policy statements the sandbox reads from a template's trust policy.
type trustStatement struct {
	Effect    string
	Principal map[string]any
	Action    any
	Condition map[string]any
	Sid       string
}

// CloudFormationRoles loads a CloudFormation template (YAML or JSON) with
// goformation, which rejects unknown resource types, misspelled
// properties and values of the wrong type, and returns its IAM roles as
// deployed in account of partition (region us-east-1 unless region is
// given) with params as the stack's parameters (those unset take their
// Default). Every policy must pass the sandbox's policy validation; a
// trust policy is checked as if it were an identity policy on the role
// itself, with its Principal taken out.
func CloudFormationRoles(path, partition, region, account string, params map[string]string) ([]TemplateRole, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cloudformation: %w", err)
	}
	if region == "" {
		region = "us-east-1"
	}
	r := &cfnResolver{partition: partition, region: region, account: account, params: params}
	opts := &intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
		"Ref": r.ref, "Fn::Sub": r.sub, "Fn::GetAtt": r.getAtt,
	}}
	if err := checkResourceTypes(data); err != nil {
		return nil, fmt.Errorf("cloudformation %s: %w", path, err)
	}
	var t *cloudformation.Template
	if strings.HasSuffix(path, ".json") {
		t, err = goformation.ParseJSONWithOptions(data, opts)
	} else {
		t, err = goformation.ParseYAMLWithOptions(data, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("cloudformation %s: %w", path, err)
	}
	if err := errors.Join(r.errs...); err != nil {
		return nil, fmt.Errorf("cloudformation %s: %w", path, err)
	}
	for name := range t.Parameters {
		if _, ok := params[name]; !ok && t.Parameters[name].Default == nil {
			return nil, fmt.Errorf("cloudformation %s: parameter %s has no default and no value", path, name)
		}
	}
	for name := range params {
		if _, ok := t.Parameters[name]; !ok {
			return nil, fmt.Errorf("cloudformation %s: the template has no parameter %s", path, name)
		}
	}
	var out []TemplateRole
	roles := t.GetAllIAMRoleResources()
	ids := make([]string, 0, len(roles))
	for id := range roles {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		res := roles[id]
		field := "Resources." + id
		if res.RoleName == nil {
			return nil, fmt.Errorf("cloudformation %s: %s: RoleName is required here (JIT names roles)", path, field)
		}
		tr := TemplateRole{LogicalID: id, Role: Role{
			Account: account, Name: *res.RoleName, Policies: map[string]string{},
		}}
		if res.Path != nil {
			tr.Role.Path = *res.Path
		}
		if res.MaxSessionDuration != nil {
			tr.Role.MaxSessionDuration = *res.MaxSessionDuration
		}
		for _, p := range res.Policies {
			doc, err := json.Marshal(p.PolicyDocument)
			if err != nil {
				return nil, fmt.Errorf("cloudformation %s: %s.Policies[%s]: %w", path, field, p.PolicyName, err)
			}
			if _, err := parsePolicy(string(doc), false); err != nil {
				return nil, fmt.Errorf("cloudformation %s: %s.Policies[%s]: %v", path, field, p.PolicyName, err)
			}
			tr.Role.Policies[p.PolicyName] = string(doc)
		}
		for _, arn := range res.ManagedPolicyArns {
			name, ok := strings.CutPrefix(arn, "arn:"+partition+":iam::aws:policy/")
			if _, known := awsManagedPolicies[name]; !ok || !known {
				return nil, fmt.Errorf("cloudformation %s: %s.ManagedPolicyArns: the sandbox does not know %s (it knows AWS managed policies of managed.go)", path, field, arn)
			}
			tr.Role.ManagedPolicyArns = append(tr.Role.ManagedPolicyArns, arn)
		}
		roleARN := fmt.Sprintf("arn:%s:iam::%s:role%s%s", partition, account, cmpOr(tr.Role.Path, "/"), tr.Role.Name)
		if err := tr.readTrust(res.AssumeRolePolicyDocument, roleARN); err != nil {
			return nil, fmt.Errorf("cloudformation %s: %s.AssumeRolePolicyDocument: %v", path, field, err)
		}
		out = append(out, tr)
	}
	return out, nil
}

// checkResourceTypes refuses a resource type goformation does not know
// (which it would report only as "json: Unmarshal(nil)").
func checkResourceTypes(data []byte) error {
	raw, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return err
	}
	var top struct {
		Resources map[string]struct{ Type string }
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		return err
	}
	known := cloudformation.AllResources()
	for id, r := range top.Resources {
		if _, ok := known[r.Type]; !ok && !strings.HasPrefix(r.Type, "Custom::") {
			return fmt.Errorf("Resources.%s: unknown resource type %q", id, r.Type)
		}
	}
	return nil
}

// readTrust validates the trust policy doc and fills TrustPolicy,
// Services, and the role's TrustedPrincipals and TrustActions. Trust
// conditions are validated but not evaluated by the sandbox.
func (tr *TemplateRole) readTrust(doc any, roleARN string) error {
	raw, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	tr.TrustPolicy = string(raw)
	var top struct {
		Version   string
		Statement []map[string]any
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		return fmt.Errorf("Syntax errors in policy. %v", err)
	}
	for i, st := range top.Statement {
		var ts trustStatement
		b, _ := json.Marshal(st)
		if err := json.Unmarshal(b, &ts); err != nil {
			return fmt.Errorf("Statement[%d]: Syntax errors in policy. %v", i, err)
		}
		// As an identity policy on the role itself.
		check := map[string]any{}
		for k, v := range st {
			if k != "Principal" {
				check[k] = v
			}
		}
		check["Resource"] = roleARN
		cb, _ := json.Marshal(map[string]any{"Version": top.Version, "Statement": []any{check}})
		if _, err := parsePolicy(string(cb), false); err != nil {
			return fmt.Errorf("Statement[%d]: %v", i, err)
		}
		if ts.Effect != "Allow" {
			return fmt.Errorf("Statement[%d]: the sandbox takes only Allow statements in trust policies", i)
		}
		actions, _ := stringList(ts.Action, false)
		for _, a := range actions {
			if !slices.Contains(trustActions, a) {
				return fmt.Errorf("Statement[%d]: action %s is not one of %s", i, a, strings.Join(trustActions, ", "))
			}
		}
		for kind, v := range ts.Principal {
			list, ok := stringList(v, false)
			if !ok {
				return fmt.Errorf("Statement[%d].Principal.%s: not a string or list of strings", i, kind)
			}
			switch kind {
			case "AWS":
				for _, p := range list {
					if !slices.Contains(tr.Role.TrustedPrincipals, p) {
						tr.Role.TrustedPrincipals = append(tr.Role.TrustedPrincipals, p)
					}
				}
				for _, a := range actions {
					if !slices.Contains(tr.Role.TrustActions, a) {
						tr.Role.TrustActions = append(tr.Role.TrustActions, a)
					}
				}
			case "Service":
				tr.Services = append(tr.Services, list...)
			default:
				return fmt.Errorf("Statement[%d].Principal: the sandbox takes AWS and Service principals, not %s", i, kind)
			}
		}
	}
	return nil
}

// AllowedActions returns the actions the role's inline policies allow,
// sorted and without duplicates, as written (wildcards stay wildcards).
func (tr TemplateRole) AllowedActions() []string {
	var out []string
	for _, doc := range tr.Role.Policies {
		p, err := parsePolicy(doc, false)
		if err != nil {
			continue // validated when loaded
		}
		for _, st := range p.statements {
			if !st.deny && !st.notAction {
				out = append(out, st.actions...)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// WithCloudFormation returns f with the IAM roles of the templates
// deployed in every account of f, as a StackSet would deploy them, in
// place of f's own roles. Roles whose trust policy names only service
// principals are left out: nothing in the sandbox could assume them.
func (f Fixture) WithCloudFormation(paths []string, params map[string]string) (Fixture, error) {
	f = f.withDefaults()
	used := map[string]bool{}
	var roles []Role
	for _, path := range paths {
		for _, a := range f.Accounts {
			trs, err := CloudFormationRoles(path, f.Partition, f.Region, a.ID, templateParams(path, params, used))
			if err != nil {
				return Fixture{}, err
			}
			for _, tr := range trs {
				if len(tr.Role.TrustedPrincipals) > 0 {
					roles = append(roles, tr.Role)
				}
			}
		}
	}
	for k := range params {
		if !used[k] {
			return Fixture{}, fmt.Errorf("cloudformation: no template has a parameter %s", k)
		}
	}
	f.Roles = roles
	f = f.withDefaults()
	if err := f.validate(); err != nil {
		return Fixture{}, fmt.Errorf("cloudformation: %w", err)
	}
	return f, nil
}

// templateParams keeps the params that the template at path declares
// in its Parameters section, marking them used; the others belong to
// other templates.
func templateParams(path string, params map[string]string, used map[string]bool) map[string]string {
	out := map[string]string{}
	data, err := os.ReadFile(path)
	if err != nil {
		return out // CloudFormationRoles reports it
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return out
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "Parameters" {
			continue
		}
		decl := top.Content[i+1]
		for j := 0; j+1 < len(decl.Content); j += 2 {
			k := decl.Content[j].Value
			if v, ok := params[k]; ok {
				out[k] = v
				used[k] = true
			}
		}
	}
	return out
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// cfnResolver resolves Ref, Fn::Sub and Fn::GetAtt for one account.
type cfnResolver struct {
	partition, region, account string
	params                     map[string]string
	errs                       []error
}

func (r *cfnResolver) ref(_ string, input any, template any) any {
	name, ok := input.(string)
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("Ref: %v is not a name", input))
		return nil
	}
	switch name {
	case "AWS::AccountId":
		return r.account
	case "AWS::Partition":
		return r.partition
	case "AWS::Region":
		return r.region
	case "AWS::URLSuffix":
		return "amazonaws.com"
	case "AWS::NoValue":
		return nil
	}
	tm, _ := template.(map[string]any)
	params, _ := tm["Parameters"].(map[string]any)
	p, ok := params[name].(map[string]any)
	if !ok {
		if res, _ := tm["Resources"].(map[string]any); res[name] != nil {
			r.errs = append(r.errs, fmt.Errorf("Ref %s: the sandbox resolves Ref to parameters only", name))
		} else {
			r.errs = append(r.errs, fmt.Errorf("Ref %s: no such parameter", name))
		}
		return nil
	}
	v, given := r.params[name]
	if !given {
		d, ok := p["Default"].(string)
		if !ok {
			return nil // reported as a parameter without a value
		}
		v = d
	}
	if t, _ := p["Type"].(string); t == "CommaDelimitedList" {
		var list []any
		for _, s := range strings.Split(v, ",") {
			list = append(list, strings.TrimSpace(s))
		}
		return list
	}
	return v
}

var subVarRe = lazy(`\$\{([^}!]+)\}`)

func (r *cfnResolver) sub(_ string, input any, template any) any {
	s, ok := input.(string)
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("Fn::Sub: only the string form is supported"))
		return nil
	}
	return subVarRe.re().ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		var v any
		if res, attr, ok := strings.Cut(name, "."); ok {
			v = r.getAtt("", []any{res, attr}, template)
		} else {
			v = r.ref("", name, template)
		}
		str, ok := v.(string)
		if !ok {
			r.errs = append(r.errs, fmt.Errorf("Fn::Sub %s: ${%s} is not a string", s, name))
		}
		return str
	})
}

func (r *cfnResolver) getAtt(_ string, input any, template any) any {
	var parts []string
	switch v := input.(type) {
	case []any:
		for _, p := range v {
			s, _ := p.(string)
			parts = append(parts, s)
		}
	case string:
		parts = strings.SplitN(v, ".", 2)
	}
	if len(parts) != 2 || parts[1] != "Arn" {
		r.errs = append(r.errs, fmt.Errorf("Fn::GetAtt %v: the sandbox resolves only <role>.Arn", input))
		return nil
	}
	tm, _ := template.(map[string]any)
	res, _ := tm["Resources"].(map[string]any)
	role, _ := res[parts[0]].(map[string]any)
	props, _ := role["Properties"].(map[string]any)
	if t, _ := role["Type"].(string); t != "AWS::IAM::Role" {
		r.errs = append(r.errs, fmt.Errorf("Fn::GetAtt %s.Arn: not an AWS::IAM::Role of the template", parts[0]))
		return nil
	}
	name, ok := props["RoleName"].(string)
	if m, isMap := props["RoleName"].(map[string]any); isMap {
		name, ok = r.ref("", m["Ref"], template).(string)
	}
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("Fn::GetAtt %s.Arn: the role needs a RoleName", parts[0]))
		return nil
	}
	path, _ := props["Path"].(string)
	return fmt.Sprintf("arn:%s:iam::%s:role%s%s", r.partition, r.account, cmpOr(path, "/"), name)
}

// DemoBrokerARN returns the ARN of the demo broker user in f's partition:
// the BrokerRoleArn a sandbox stack of member.yaml takes by default.
func DemoBrokerARN(f Fixture) string {
	return fmt.Sprintf("arn:%s:iam::111111111111:user/jit-broker", cmpOr(f.Partition, "aws"))
}
