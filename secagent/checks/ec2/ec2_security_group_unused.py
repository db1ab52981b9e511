"""No network interface uses the security group (the retired FSBP EC2.22; maps no control).

Security Hub EC2.22, "Unused Amazon EC2 security groups should be removed" (Config rule
ec2-security-group-attached-to-eni-periodic): "The control fails if the security group is not
associated with an Amazon EC2 instance or an elastic network interface." The Config rule "Checks
if non-default security groups are attached to Elastic network interfaces (ENIs). The rule is
NON_COMPLIANT if the security group is not associated with an ENI. Security groups not owned by
the calling account evaluate as NOT_APPLICABLE."

Retired: "On September 20, 2023, Security Hub CSPM removed this control from the AWS
Foundational Security Best Practices and NIST SP 800-53 Revision 5 standards. This control
continues to be part of the AWS Control Tower service-managed standard." So the check maps no
FSBP control (as s3_bucket_default_encryption_missing does for the retired S3.4); it keeps the
Config rule's verdict and Security Hub's severity.

Choices, following the Config rule:
- The VPC's default group is out of scope (PASS): AWS never lets it be deleted.
- A group owned by another account (shared through VPC sharing) is out of scope (PASS).
- Only network interfaces count. A group that only other groups' rules reference is unused in
  this sense (FAIL), as the Config rule only looks at interfaces; the evidence names those
  groups (``referencedBy``), because EC2 refuses to delete a group while another references it.
- No automatic fix: deleting a security group is the owner's decision (it may be kept for a
  launch template or a stack that will use it), and no rollback can bring the same group id back.
"""

from typing import Any

from secagent.checks.base import Result, failed, passed, unknown
from secagent.models.findings import CheckMeta, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import SecurityGroupSnapshot

META = CheckMeta(
    id="ec2_security_group_unused",
    title="Security group is not attached to any network interface",
    severity=Severity.MEDIUM,
    rationale="An unused security group is inventory nobody watches: its rules are applied, unreviewed, the "
    "day someone attaches it to a resource. Remove groups that are no longer needed.",
    controls=[],
    remediation_id="ec2.delete_unused_security_group",
    requires=["group", "network_interfaces"],
    also_reads=["referencing_groups"],
)


def evaluate(snapshot: SecurityGroupSnapshot, settings: AgentSettings) -> list[Result]:
    group = snapshot.config.group.value
    if group is None:
        return unknown("the group's description was read empty: cannot tell whether it is the default group")
    if group.is_vpc_default:
        return passed(defaultGroup=True, inScope=False)
    # "Not owned by the calling account": the owner against the account that read the group.
    caller = snapshot.read_by.account_id
    if group.owner_id and caller and group.owner_id != caller:
        return passed(ownerId=group.owner_id, inScope=False)
    interfaces = snapshot.config.network_interfaces.value or []
    if interfaces:
        return passed(networkInterfaces=[i.network_interface_id for i in interfaces])
    evidence: dict[str, Any] = {"networkInterfaces": []}
    if snapshot.config.referencing_groups.known:
        evidence["referencedBy"] = snapshot.config.referencing_groups.value or []
    return failed(remediable=False, **evidence)
