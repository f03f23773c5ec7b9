package inventory

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/skymap/skymap/internal/model"
)

const typeIAMRole = "aws.iam.role"

var iamTypes = map[string]typeInfo{
	typeIAMRole: {model.LayerManagement, "/iam/home#/roles/details/{id}", "IAM", ""},
}

var iamListings = []listing{
	{"iam", "roles", []string{typeIAMRole}, global, collectRoles, []string{"iam:ListRoles", "iam:ListRoleTags"}},
}

// collectRoles lists the account's roles. ListRoles leaves tags out, so
// they are read per role, a bounded number at a time.
func collectRoles(ctx context.Context, t Target) (Result, error) {
	var res Result
	client := iam.NewFromConfig(t.Config)
	var roles []iamtypes.Role
	p := iam.NewListRolesPaginator(client, &iam.ListRolesInput{MaxItems: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return res, err
		}
		for _, r := range page.Roles {
			if aws.ToString(r.Arn) == "" {
				res.malformed("iam", aws.ToString(r.RoleName), "role without an ARN")
				continue
			}
			roles = append(roles, r)
		}
	}
	return res, describeEach(ctx, &res, roles,
		func(r iamtypes.Role) string { return "role " + aws.ToString(r.RoleName) },
		func(ctx context.Context, r iamtypes.Role, out *Result) error {
			tags, keep, err := roleTags(ctx, client, r)
			if keep {
				out.Components = append(out.Components, t.component(resource{typ: typeIAMRole, id: aws.ToString(r.Arn),
					short: aws.ToString(r.RoleName), tags: tags, idents: roleIdents(r), data: r}))
			}
			return err
		})
}

// roleIdents are the other names of a role: its unique id (AROA...).
func roleIdents(r iamtypes.Role) []string {
	if id := aws.ToString(r.RoleId); id != "" {
		return []string{id}
	}
	return nil
}

// roleTags reads a role's tags; keep is false for a role deleted since it
// was listed.
func roleTags(ctx context.Context, client *iam.Client, r iamtypes.Role) (map[string]string, bool, error) {
	tags := map[string]string{}
	for _, tg := range r.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	p := iam.NewListRoleTagsPaginator(client, &iam.ListRoleTagsInput{RoleName: r.RoleName, MaxItems: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			keep, failure := detailOutcome(err)
			return tags, keep, failure
		}
		for _, tg := range page.Tags {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
	}
	return tags, true, nil
}
