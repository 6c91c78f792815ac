// jepa/plan/pose.hpp: the robot pose update of the V-JEPA 2-AC planner.
//
// A pose is [x, y, z, roll, pitch, yaw, gripper] (DROID: metres, Euler 'xyz'
// extrinsic radians, closedness in [0,1]); an action is [dx, dy, dz, droll,
// dpitch, dyaw, dgripper]. compute_new_pose reproduces the official
// notebooks/utils/mpc_utils.py compute_new_pose (ARCHITECTURE.md §4), which
// goes through scipy.spatial.transform.Rotation: R_new = R(delta) @ R(theta)
// (delta on the left), converted back exactly as scipy 1.10's as_euler('xyz')
// does, including its gimbal-lock branch (third angle set to 0). All rotation
// math is in double, as the reference runs in float64.
#ifndef JEPA_PLAN_POSE_HPP
#define JEPA_PLAN_POSE_HPP

#include <cmath>

namespace jepa {
namespace plan {

constexpr int kPoseDim = 7;    // x, y, z, roll, pitch, yaw, gripper
constexpr int kActionDim = 7;  // dx, dy, dz, droll, dpitch, dyaw, dgripper

// A unit quaternion (x, y, z, w), scipy's scalar-last order.
struct Quat {
  double x, y, z, w;
};

// q = p * q' (Hamilton product, scalar last).
inline Quat quat_compose(const Quat& p, const Quat& q) {
  return Quat{p.w * q.x + q.w * p.x + (p.y * q.z - p.z * q.y),
              p.w * q.y + q.w * p.y + (p.z * q.x - p.x * q.z),
              p.w * q.z + q.w * p.z + (p.x * q.y - p.y * q.x),
              p.w * q.w - (p.x * q.x + p.y * q.y + p.z * q.z)};
}

// scipy from_euler('xyz'), lowercase = extrinsic: rotate about the fixed x,
// then y, then z, so q = qz * qy * qx (each later rotation composed on the left).
inline Quat quat_from_euler_xyz(const double e[3]) {
  const Quat qx{std::sin(e[0] / 2), 0, 0, std::cos(e[0] / 2)};
  const Quat qy{0, std::sin(e[1] / 2), 0, std::cos(e[1] / 2)};
  const Quat qz{0, 0, std::sin(e[2] / 2), std::cos(e[2] / 2)};
  return quat_compose(qz, quat_compose(qy, qx));
}

// Row-major 3x3 rotation matrix of a unit quaternion (scipy as_matrix).
inline void quat_to_matrix(const Quat& q, double R[9]) {
  const double x2 = q.x * q.x, y2 = q.y * q.y, z2 = q.z * q.z, w2 = q.w * q.w;
  const double xy = q.x * q.y, zw = q.z * q.w, xz = q.x * q.z;
  const double yw = q.y * q.w, yz = q.y * q.z, xw = q.x * q.w;
  R[0] = x2 - y2 - z2 + w2;  R[1] = 2 * (xy - zw);       R[2] = 2 * (xz + yw);
  R[3] = 2 * (xy + zw);      R[4] = -x2 + y2 - z2 + w2;  R[5] = 2 * (yz - xw);
  R[6] = 2 * (xz - yw);      R[7] = 2 * (yz + xw);       R[8] = -x2 - y2 + z2 + w2;
}

// scipy from_matrix: the quaternion from the largest of (diagonal, trace), so
// the division is well conditioned, then normalised.
inline Quat quat_from_matrix(const double R[9]) {
  const double d[4] = {R[0], R[4], R[8], R[0] + R[4] + R[8]};
  int choice = 0;
  for (int c = 1; c < 4; ++c)
    if (d[c] > d[choice]) choice = c;  // first maximum wins, as argmax
  double q[4];
  if (choice != 3) {
    const int i = choice, j = (i + 1) % 3, k = (j + 1) % 3;
    q[i] = 1 - d[3] + 2 * R[4 * i];
    q[j] = R[3 * j + i] + R[3 * i + j];
    q[k] = R[3 * k + i] + R[3 * i + k];
    q[3] = R[3 * k + j] - R[3 * j + k];
  } else {
    q[0] = R[7] - R[5];
    q[1] = R[2] - R[6];
    q[2] = R[3] - R[1];
    q[3] = 1 + d[3];
  }
  const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  return Quat{q[0] / n, q[1] / n, q[2] / n, q[3] / n};
}

// Row-major 3x3 R = Rz(e[2]) * Ry(e[1]) * Rx(e[0]), computed as scipy does
// (through the quaternion), so rounding near the poles matches.
inline void euler_xyz_to_matrix(const double e[3], double R[9]) {
  quat_to_matrix(quat_from_euler_xyz(e), R);
}

// C = A * B for row-major 3x3 matrices.
inline void matmul3(const double A[9], const double B[9], double C[9]) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      C[3 * i + j] = A[3 * i] * B[j] + A[3 * i + 1] * B[3 + j] + A[3 * i + 2] * B[6 + j];
}

// Euler 'xyz' (extrinsic) angles of a rotation matrix, as scipy 1.10's
// Rotation.as_euler('xyz'): roll and yaw in [-pi, pi], pitch in [-pi/2, pi/2].
// scipy uses the general method of Shuster & Markley on the reversed
// (intrinsic 'zyx') sequence; specialised to this sequence it reduces to:
//   pitch = arccos(clamp(R20)) - pi/2
//   roll  = atan2(R21, R22),  yaw = atan2(R10, R00)         (regular case)
// and, when arccos(R20) is within 1e-7 of 0 or pi (gimbal lock), yaw = 0 and
//   roll = atan2(-R01 - R12, R11 - R02)       (arccos ~ 0,  pitch ~ -pi/2)
//   roll = -atan2(R12 - R01, R11 + R02)       (arccos ~ pi, pitch ~ +pi/2).
// Computing pitch through arccos (not asin) keeps scipy's rounding near the
// poles, where the two differ by far more than 1 ulp.
inline void matrix_to_euler_xyz(const double R[9], double e[3]) {
  const double kPi = 3.14159265358979323846;
  const double kGimbalEps = 1e-7;  // scipy's threshold on the middle angle
  double m22 = R[6];               // transformed matrix element (2,2) is R20
  if (m22 > 1) m22 = 1;
  if (m22 < -1) m22 = -1;
  const double middle = std::acos(m22);
  const bool safe_low = std::fabs(middle) >= kGimbalEps;
  const bool safe_high = std::fabs(middle - kPi) >= kGimbalEps;
  double yaw = 0, roll = 0;
  double pitch = middle - kPi / 2;
  if (safe_low && safe_high) {
    yaw = std::atan2(R[3], R[0]);
    roll = std::atan2(R[7], R[8]);
    // scipy's step 7 (bring the middle angle into [-pi/2, pi/2]) never fires
    // here because arccos is in [0, pi]; kept for fidelity to the algorithm.
    if (pitch < -kPi / 2 || pitch > kPi / 2) {
      yaw += kPi;
      roll += kPi;
      pitch = -kPi - pitch;
    }
  } else if (!safe_low) {
    roll = std::atan2(-R[1] - R[5], R[4] - R[2]);
  } else {
    roll = -std::atan2(R[5] - R[1], R[4] + R[2]);
  }
  double out[3] = {roll, pitch, yaw};
  for (double& a : out) {
    if (a < -kPi) a += 2 * kPi;
    if (a > kPi) a -= 2 * kPi;
  }
  e[0] = out[0];
  e[1] = out[1];
  e[2] = out[2];
}

// scipy Rotation.from_matrix(R).as_euler('xyz'): the matrix goes through a
// normalised quaternion first (which also absorbs tiny non-orthogonality).
inline void rotation_to_euler_xyz(const double R[9], double e[3]) {
  double Rq[9];
  quat_to_matrix(quat_from_matrix(R), Rq);
  matrix_to_euler_xyz(Rq, e);
}

// The official compute_new_pose: xyz += dxyz; R_new = R(delta) R(theta);
// gripper = clip(g + dg, 0, 1). `out` may alias `pose`.
inline void compute_new_pose(const double pose[kPoseDim], const double action[kActionDim],
                             double out[kPoseDim]) {
  double Rt[9], Rd[9], Rn[9], e[3];
  euler_xyz_to_matrix(pose + 3, Rt);
  euler_xyz_to_matrix(action + 3, Rd);
  matmul3(Rd, Rt, Rn);
  rotation_to_euler_xyz(Rn, e);
  double g = pose[6] + action[6];
  g = g < 0 ? 0 : (g > 1 ? 1 : g);
  for (int i = 0; i < 3; ++i) out[i] = pose[i] + action[i];
  for (int i = 0; i < 3; ++i) out[3 + i] = e[i];
  out[6] = g;
}

// Float action convenience (the planners keep actions as float32 model inputs).
inline void compute_new_pose(const double pose[kPoseDim], const float action[kActionDim],
                             double out[kPoseDim]) {
  double a[kActionDim];
  for (int i = 0; i < kActionDim; ++i) a[i] = (double)action[i];
  compute_new_pose(pose, a, out);
}

// The inverse: the action that takes `start` to `end` (the official
// poses_to_diff, how DROID actions were made): dxyz, Euler of R_end R_start^T,
// dgripper (not clipped).
inline void pose_difference(const double start[kPoseDim], const double end[kPoseDim],
                            double action[kActionDim]) {
  double Rs[9], Re[9], RsT[9], Rd[9], e[3];
  euler_xyz_to_matrix(start + 3, Rs);
  euler_xyz_to_matrix(end + 3, Re);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) RsT[3 * i + j] = Rs[3 * j + i];
  matmul3(Re, RsT, Rd);
  rotation_to_euler_xyz(Rd, e);
  for (int i = 0; i < 3; ++i) action[i] = end[i] - start[i];
  for (int i = 0; i < 3; ++i) action[3 + i] = e[i];
  action[6] = end[6] - start[6];
}

}  // namespace plan
}  // namespace jepa

#endif  // JEPA_PLAN_POSE_HPP
